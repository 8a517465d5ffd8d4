import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { quoteIdentifier } from '../../infrastructure/database/database-urls.js';
import { inlineStatement, type SqlStatement } from '../../infrastructure/database/sql-statement.js';
import { PG_POOL } from '../../infrastructure/tokens.js';
import { LIVE_READ_MODEL_SCHEMA } from '../../../projections/read-model.projections.js';

/** Whose rows a read may see. */
export type ReadScope =
  { readonly kind: 'tenant'; readonly tenantId: string } | { readonly kind: 'all-tenants' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Every read of the read models goes through here: a read-only transaction as the tenancy_api role
 * (which neither owns the tables nor bypasses row-level security), with the caller's tenant set
 * transaction-locally. The setting ends with the transaction, so a pooled connection never carries
 * one request's tenant into the next; and a query that forgot its WHERE clause still sees only
 * that tenant's rows.
 */
@Injectable()
export class ScopedReader {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async read<T>(
    scope: ReadScope,
    work: (client: pg.ClientBase) => Promise<T>,
    schema = LIVE_READ_MODEL_SCHEMA,
  ): Promise<T> {
    const client = await this.pool.connect();
    let healthy = true;
    try {
      // One round trip to open the scope. The tenant id is checked to be a UUID before it is
      // written into the statement, because the simple protocol takes no parameters.
      await client.query(
        `BEGIN READ ONLY; SET LOCAL ROLE tenancy_api; SET LOCAL search_path TO ${quoteIdentifier(schema)}; ${scopeSetting(scope)}`,
      );
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        healthy = false;
      });
      throw error;
    } finally {
      client.release(!healthy);
    }
  }

  /**
   * One query in the scope, in one round trip: the transaction, the role, the tenant and the query
   * travel together as a simple query (values inlined as escaped literals).
   */
  async query<Row>(
    scope: ReadScope,
    statement: SqlStatement,
    schema = LIVE_READ_MODEL_SCHEMA,
  ): Promise<Row[]> {
    const client = await this.pool.connect();
    let healthy = true;
    try {
      const results = (await client.query(
        `BEGIN READ ONLY; SET LOCAL ROLE tenancy_api; SET LOCAL search_path TO ${quoteIdentifier(schema)}; ${scopeSetting(scope)}; ${inlineStatement(statement)}; COMMIT`,
      )) as unknown as pg.QueryResult[];
      return (results[4]?.rows ?? []) as Row[];
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        healthy = false;
      });
      throw error;
    } finally {
      client.release(!healthy);
    }
  }
}

function scopeSetting(scope: ReadScope): string {
  if (scope.kind === 'all-tenants') return `SELECT set_config('app.all_tenants', 'on', true)`;
  if (!UUID.test(scope.tenantId)) throw new TypeError(`not a tenant id: ${scope.tenantId}`);
  return `SELECT set_config('app.tenant_id', '${scope.tenantId}', true)`;
}

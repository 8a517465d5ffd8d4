import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { quoteIdentifier } from '../../database/database-urls.js';
import { PG_POOL } from '../../database/postgres-pool.js';
import { inlineStatement, type SqlStatement } from '../../database/sql-statement.js';
import { inTransaction, transactionInOneRoundTrip, withPooledClient } from '../../database/transaction.js';
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

  read<T>(
    scope: ReadScope,
    work: (client: pg.ClientBase) => Promise<T>,
    schema = LIVE_READ_MODEL_SCHEMA,
  ): Promise<T> {
    return withPooledClient(this.pool, (client) =>
      inTransaction(client, () => work(client), openScope(scope, schema)),
    );
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
    const result = await withPooledClient(this.pool, (client) =>
      transactionInOneRoundTrip(client, [inlineStatement(statement)], openScope(scope, schema)),
    );
    return result.rows as Row[];
  }
}

/**
 * The statements opening a scoped read. The tenant id is checked to be a UUID before it is written
 * into them, because the simple protocol takes no parameters.
 */
function openScope(scope: ReadScope, schema: string): string {
  return `BEGIN READ ONLY; SET LOCAL ROLE tenancy_api; SET LOCAL search_path TO ${quoteIdentifier(schema)}; ${scopeSetting(scope)}`;
}

function scopeSetting(scope: ReadScope): string {
  if (scope.kind === 'all-tenants') return `SELECT set_config('app.all_tenants', 'on', true)`;
  if (!UUID.test(scope.tenantId)) throw new TypeError(`not a tenant id: ${scope.tenantId}`);
  return `SELECT set_config('app.tenant_id', '${scope.tenantId}', true)`;
}

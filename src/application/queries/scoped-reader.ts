import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { quoteIdentifier } from '../../database/database-urls.js';
import { PG_POOL } from '../../database/postgres-pool.js';
import { inlineStatement, type SqlStatement } from '../../database/sql-statement.js';
import { inTransaction, transactionInOneRoundTrip, withPooledClient } from '../../database/transaction.js';
import { LIVE_READ_MODEL_SCHEMA } from '../../../projections/read-model.projections.js';
import { isCanonicalUuid } from '../../tenancy/uuid.js';

/** Whose rows a read may see. */
export type ReadScope =
  { readonly kind: 'tenant'; readonly tenantId: string } | { readonly kind: 'all-tenants' };

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

  /**
   * A keyset page whose ORDER BY an index gives for its filter (the index starts with the filtered
   * columns, then the order's): planned as a walk of that index which stops at the page's end,
   * never as a sort.
   *
   * Left to its estimates, PostgreSQL planned a page of a tenant that had grown since the table's
   * last ANALYZE (a new tenant is estimated at a few rows, and autovacuum analyses a large table
   * only after a tenth of it changed) as a sort of every row after the cursor: walking the 100
   * pages of a 10,000-workspace tenant took 10 ms a page in PostgreSQL instead of 0.3 ms. Sorting
   * is disabled for this one statement's transaction; a query with no such index must not use it.
   */
  pageInIndexOrder<Row>(scope: ReadScope, statement: SqlStatement): Promise<Row[]> {
    return this.query<Row>(scope, {
      text: `SET LOCAL enable_sort = off; ${statement.text}`,
      values: statement.values,
    });
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
  if (!isCanonicalUuid(scope.tenantId)) throw new TypeError(`not a tenant id: ${String(scope.tenantId)}`);
  return `SELECT set_config('app.tenant_id', '${scope.tenantId}', true)`;
}

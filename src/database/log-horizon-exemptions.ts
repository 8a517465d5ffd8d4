import type pg from 'pg';

/**
 * Declares the transaction open on `transaction` as one the PostgreSQL log's readers need not wait
 * for (they pass over those in log_horizon_exemptions, migration 0007: see HORIZON in the
 * adapter), so that its running for seconds does not hold back every reader of the log (the live
 * read models, the feed). Only for a transaction that has written no event and will write none:
 * es_try_append refuses to append in it, since an event it wrote would sort below positions
 * readers have already passed. Call it first in the transaction, before any write.
 *
 * The declaration is committed on `declareOn`, another connection, for readers to see it while the
 * transaction runs; a reader whose snapshot predates it still waits, which is safe. Declarations
 * of transactions that have ended are deleted on the way.
 */
export async function exemptFromLogHorizon(transaction: pg.ClientBase, declareOn: pg.Pool): Promise<void> {
  const { rows } = await transaction.query<{ id: string }>('SELECT pg_current_xact_id()::text AS id');
  await declareOn.query(
    `WITH ended AS (
       DELETE FROM log_horizon_exemptions WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
     )
     INSERT INTO log_horizon_exemptions (transaction_id) VALUES ($1::xid8)`,
    [rows[0]?.id],
  );
}

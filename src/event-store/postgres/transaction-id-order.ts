import type pg from 'pg';

/** The log holds transaction ids its cluster has not reached (requireLogBehindTransactionIds). */
export class LogAheadOfClusterError extends Error {
  override name = 'LogAheadOfClusterError';
}

/**
 * The log's order follows the cluster's transaction ids (docs/adr/0002), so every event's id is
 * below the next one the cluster will hand out. A physical copy (a base backup, pg_upgrade) keeps
 * the cluster's counter; a logical one (pg_dump and pg_restore, logical replication) keeps the
 * log's values but not the counter, and a new cluster's ids start again lower. Every new event
 * would then sort before the log's end, where readers have passed, and the log's own events would
 * stay above the readers' horizon until the cluster's ids caught up: the restored tenants answered
 * 404, and a write answered 201 never reached its read model. Checked once, when the service or a
 * CLI command opens the database, before anything is read or written.
 */
export async function requireLogBehindTransactionIds(db: pg.Pool | pg.ClientBase): Promise<void> {
  const { rows } = await db.query<{ newest: string; next: string }>(
    `SELECT e.transaction_id::text AS newest, pg_snapshot_xmax(pg_current_snapshot())::text AS next
       FROM events e ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1`,
  );
  const found = rows[0];
  if (found === undefined || BigInt(found.newest) < BigInt(found.next)) return;
  throw new LogAheadOfClusterError(
    `the event log holds transaction ids up to ${found.newest}, ahead of this PostgreSQL cluster's next one (${found.next}): ` +
      'it was copied here logically (pg_dump and pg_restore, logical replication), which keeps the ids but not the cluster they count in. ' +
      'New events would sort before the end of the log, where readers never look again, and its own events would stay hidden from them. ' +
      'Move a log with `tenancy export --all` from the original and `tenancy import` here, ' +
      'or copy the cluster physically (pg_basebackup, pg_upgrade), which keeps its transaction ids.',
  );
}

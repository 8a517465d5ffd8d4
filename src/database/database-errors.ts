import pg from 'pg';

/**
 * SQLSTATEs that say the server is unreachable, going away, refusing sessions or refusing writes
 * for now, as opposed to a statement that failed on a working connection: class 08 (connection
 * exception), 57P01 (terminated by an administrator), 57P02 (crash shutdown), 57P03 (cannot
 * connect now: starting or shutting down), 57P05 and 25P03 (a session or a transaction ended by
 * the server's idle timeouts), 25P04 (a session ended by the server's transaction_timeout: a
 * transaction that waited behind another's lock past an operator's bound), 28000 and 28P01 (a
 * new session's login refused: a password rotated before the service's secret was, a pg_hba.conf
 * that shuts the service out; the sessions it has work on, and an operator puts it right), 53100
 * and 53300 (a full disk, too many connections: an operator's to put right, not the statement's),
 * 25006 (a read-only transaction: a standby still at the service's address after a failover, or
 * a database set read-only, which takes writes again once that is put right), 53200 (out of
 * memory, or out of shared memory: the lock table full, most often because another session of the
 * cluster holds thousands of locks; the service's own statements are bounded, so it is the
 * server's state, not theirs, and passes when that session lets go). Not 53400 (a configured
 * limit such as temp_file_limit, which the same statement meets on every retry): a consumer must
 * then record the event rather than try it for ever.
 */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '57P05',
  '25P03',
  '25P04',
  '28000',
  '28P01',
  '53100',
  '53300',
  '53200',
  '25006',
]);

/** Socket errors of a connection that could not be made or was cut. */
const SOCKET_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** A client's own connectionTimeoutMillis: a server that took the connection and never answered. */
const CONNECT_TIMEOUT = 'timeout expired';
/** A client's own query_timeout: a server that stopped answering a statement. */
const QUERY_READ_TIMEOUT = 'Query read timeout';

/**
 * node-postgres reports a connection it lost, or a pool that could not connect in time, with plain
 * Errors that carry no code; these are its own fixed texts (pg and pg-pool), never a server's
 * message, which is why matching them is safe.
 */
const CLIENT_SIDE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
  CONNECT_TIMEOUT,
  QUERY_READ_TIMEOUT,
];

/**
 * Whether an error means "the database is away" (down, restarting, the connection was cut), so
 * that the caller answers 503 and retries, rather than "this statement failed" (a rule, a bug).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof pg.DatabaseError) {
    return (error.code?.startsWith('08') ?? false) || UNAVAILABLE_SQLSTATES.has(error.code ?? '');
  }
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && SOCKET_ERRORS.has(code)) return true;
  if (error instanceof AggregateError) return error.errors.some(isDatabaseUnavailable);
  return CLIENT_SIDE_MESSAGES.some((text) => error.message.startsWith(text));
}

/**
 * SQLSTATEs of a statement the server cancelled before it finished, on a connection that still
 * works: 57014 (the statement timeout, typically waiting behind a lock someone holds, or an
 * operator's pg_cancel_backend) and 55P03 (a lock not available). The statement changed nothing,
 * and the same request may well succeed a moment later: a client is told to retry, and a consumer
 * tries the batch again without counting it against the event.
 */
const CANCELLED_SQLSTATES = new Set(['57014', '55P03']);

/** Whether an error is a statement the server cancelled (timed out or cancelled by an operator). */
export function isStatementCancelled(error: unknown): boolean {
  return error instanceof pg.DatabaseError && CANCELLED_SQLSTATES.has(error.code ?? '');
}

/** Whether a new connection was taken by the server but never answered within its connect timeout. */
export function isConnectTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === CONNECT_TIMEOUT;
}

/**
 * Whether a statement's answer never came within the pool's query timeout. Its connection is in an
 * unknown state (the statement may still be running): nothing more may be sent on it, not even a
 * ROLLBACK, which would wait behind it; closing the connection rolls the transaction back.
 */
export function isQueryReadTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === QUERY_READ_TIMEOUT;
}

/**
 * Whether a CREATE DATABASE lost to another session creating the same database at the same time:
 * 42P04 (duplicate_database), or 23505 on pg_database's unique index when both had passed the
 * name check together.
 */
export function isDuplicateDatabase(error: unknown): boolean {
  return (
    error instanceof pg.DatabaseError &&
    (error.code === '42P04' || (error.code === '23505' && error.table === 'pg_database'))
  );
}

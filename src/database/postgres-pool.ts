import pg from 'pg';

// int8 (bigint) columns arrive as strings by default; counts and revisions here stay far below
// 2^53, and positions are read as text on purpose, so parse int8 as a number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/** Injection token of the service's pg.Pool. */
export const PG_POOL = Symbol('PgPool');

/**
 * Injection token of the connection string the pool connects with: consumers open connections of
 * their own (they hold session advisory locks), and so does the LISTEN connection.
 */
export const DATABASE_URL = Symbol('DatabaseUrl');

/**
 * The longest a new connection may take to be made and accepted. A database that is down answers a
 * connect at once (refused); one that takes the connection and never answers (a stopped or hung
 * server, a proxy without a backend) must not hold a request, a start or a CLI run for ever: after
 * this the connect fails as unavailable, like a refused one.
 */
export const CONNECT_TIMEOUT_MS = 5_000;

/** The longest a statement runs on the server before the server cancels it (57014). */
export const STATEMENT_TIMEOUT_MS = 30_000;

/**
 * The longest the service waits for the answer to a statement, on its side. Past the statement
 * timeout the server would have answered if it could: a server that stopped answering (stopped, hung,
 * a network that drops packets) must not hold a request for ever. The operator CLI does not set it:
 * a replay's statements run without the statement timeout, on purpose.
 */
export const QUERY_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 5_000;

/**
 * Settings every connection that reads or writes data starts with, whatever the server, the
 * database, the role or the connection string set, because the service relies on them:
 *
 * - DateStyle ISO: node-postgres parses timestamps from ISO output only. Under another DateStyle
 *   (SQL, Postgres, German) it read every timestamp as null, and each read that shows one failed
 *   with a 500.
 * - search_path public: the service's tables live in the schema public, and some statements name
 *   it. A search_path that put another schema first (`"$user", public` with a schema named after
 *   the role, or one set for the database) made the migrations create the tables there, where
 *   those statements did not find them: the process managers and the read models stopped.
 * - default_transaction_isolation READ COMMITTED: the statements are written for it. A write that
 *   meets another's row waits for it and then sees it: an append finds the stream moved on (a
 *   conflict, decided again), a tenant's name is found taken (409). At SERIALIZABLE or REPEATABLE
 *   READ, set for the database or role, PostgreSQL refused such a write with a serialization
 *   failure instead: a 500. The transactions that need a stricter level ask for it themselves.
 * - synchronous_commit on: a write is acknowledged once its append has committed, and a commit
 *   must be on disk by then. With synchronous_commit off for the database or role, a commit
 *   returned first, and a crash of the server in the next moments lost writes already answered
 *   201. (The projectors commit their read models asynchronously, on purpose: the log rebuilds
 *   them.) A stricter level set for a synchronous standby (remote_apply) becomes on: the commit
 *   still waits until the standby has it on disk.
 * - row_security on: the projectors and the reads run as roles that row-level security applies to
 *   (it keeps each tenant to its own rows). With it off for the database or role, PostgreSQL
 *   refuses their statements rather than skip the policies: the read models stopped.
 *
 * (The event store's LISTEN connection reads no table.)
 */
const SESSION_SETTINGS = [
  'DateStyle=ISO',
  'search_path=public',
  // A backslash keeps the space in the value, as PostgreSQL reads start-up options.
  'default_transaction_isolation=read\\ committed',
  'synchronous_commit=on',
  'row_security=on',
]
  .map((setting) => `-c ${setting}`)
  .join(' ');

/**
 * How a connection is made, with SESSION_SETTINGS as its start-up options: after any options the
 * connection string gives, since node-postgres takes the string's options over the config's.
 */
export function connectionConfig(
  connectionString: string,
  settings = SESSION_SETTINGS,
): { connectionString: string; options?: string } {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return { connectionString, options: settings };
  }
  const given = url.searchParams.get('options');
  if (given === null) return { connectionString, options: settings };
  url.searchParams.set('options', `${given} ${settings}`);
  return { connectionString: url.toString() };
}

/**
 * connectionConfig for a session whose work is long by design (see liftTimeouts): no statement
 * bound from its start. Lifted by a SET once connected, the database's bound still applied to that
 * SET: on a database bounding statements at 5 ms, a busy machine let it fire meanwhile, and the
 * cancellation then reached the session as "canceling statement due to user request".
 */
export function longWorkConnectionConfig(connectionString: string): {
  connectionString: string;
  options?: string;
} {
  return connectionConfig(connectionString, `${SESSION_SETTINGS} -c statement_timeout=0`);
}

export interface PoolOptions {
  readonly connectionString: string;
  readonly max?: number;
  readonly applicationName?: string;
  /** The client-side wait for a statement's answer (QUERY_TIMEOUT_MS in the service); unset: none. */
  readonly queryTimeoutMs?: number;
  /** The wait for a new connection or a free one (CONNECT_TIMEOUT_MS unless given). */
  readonly connectTimeoutMs?: number;
  /**
   * Lifts the server's transaction_timeout for every session of the pool (the operator CLI: a
   * replay's load and verify's comparison are long transactions by design, as a dump's are).
   */
  readonly longTransactions?: boolean;
}

/**
 * Sets transaction_timeout to none for the session, on a server that has it (PostgreSQL 17 and
 * later; an older one refuses the name, so the setting cannot be a start-up option). A database or
 * role may bound every transaction with it, against forgotten ones; the server then ends the
 * session of any transaction that lasts longer, the CLI's own included.
 */
const LIFT_TRANSACTION_TIMEOUT = `SELECT set_config('transaction_timeout', '0', false)
  WHERE current_setting('server_version_num')::int >= 170000`;

/** Lifts the server's transaction_timeout for the session, where the server has one. */
async function liftTransactionTimeout(client: pg.ClientBase): Promise<void> {
  await client.query(LIFT_TRANSACTION_TIMEOUT);
}

/**
 * For a session whose work is long by design (a consumer's batches, the migrations and the wait
 * for another instance's), connected with longWorkConnectionConfig (no statement bound): no
 * transaction bound either, as a restore lifts them. A lock_timeout stays the operator's.
 */
export async function liftTimeouts(client: pg.ClientBase): Promise<void> {
  await client.query(LIFT_TRANSACTION_TIMEOUT);
}

/** pg-pool runs its onConnect hook, and waits for it, before a new client is handed out. */
const LONG_TRANSACTIONS: { onConnect(client: pg.ClientBase): Promise<void> } = {
  onConnect: liftTransactionTimeout,
};

/**
 * Every pooled connection bounds its statements and its idle transactions, so a stuck client can
 * neither block other writers of a stream nor hold back the log's read horizon for long.
 */
export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    ...connectionConfig(options.connectionString),
    max: options.max ?? 20,
    application_name: options.applicationName ?? 'tenancy',
    statement_timeout: STATEMENT_TIMEOUT_MS,
    // A timed-out query fails as unavailable (503); the pool destroys its connection.
    ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
    // After this the request fails as unavailable (503) and is retried.
    connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: 10_000,
    idleTimeoutMillis: 30_000,
    ...(options.longTransactions ? LONG_TRANSACTIONS : {}),
  });
  // An idle connection the server closed (restart, failover, administrator) is simply dropped
  // from the pool; the next query opens a new one. Unhandled, the event would end the process.
  pool.on('error', () => undefined);
  // The pool listens for a client's errors only while the client is idle in it. One cut while it is
  // checked out (a read or a transaction under way, a CLI's replay) emitted its error with no one
  // listening, which ended the process. The statement under way fails with that error (503), a
  // later one as unavailable too, and the pool drops the client when it comes back.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

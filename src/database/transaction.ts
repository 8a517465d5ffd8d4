import type pg from 'pg';
import { isQueryReadTimeout } from './database-errors.js';

/**
 * The one way this service opens, commits and rolls back a transaction. A rollback that fails
 * (the connection broke mid-transaction), or a statement whose answer never came, marks the client
 * broken, so the pool destroys it instead of handing a connection in an unknown state to the next
 * caller.
 */
const broken = new WeakSet<pg.ClientBase>();

/**
 * Runs `work` between `begin` and COMMIT on the client, and rolls back if it throws. `begin` may
 * carry the statements that set the transaction up (role, search path, settings): they travel to
 * PostgreSQL together with BEGIN, in one round trip.
 */
export async function inTransaction<T>(
  client: pg.ClientBase,
  work: () => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  try {
    // Inside: `begin` may fail after BEGIN itself (one of its settings), leaving a transaction open.
    await client.query(begin);
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await rollback(client, error);
    throw error;
  }
}

/**
 * A whole transaction as one text for the simple-query protocol: `begin`, the statements and
 * COMMIT travel in one round trip (values must already be inlined). Returns the result of the last
 * statement before COMMIT.
 */
export async function transactionInOneRoundTrip(
  client: pg.ClientBase,
  statements: readonly string[],
  begin = 'BEGIN',
): Promise<pg.QueryResult> {
  const body = statements.filter((statement) => statement.trim() !== '');
  try {
    const results = (await client.query([begin, ...body, 'COMMIT'].join(';\n'))) as unknown as
      pg.QueryResult[] | pg.QueryResult;
    return Array.isArray(results) ? (results[results.length - 2] ?? results[0]!) : results;
  } catch (error) {
    await rollback(client, error);
    throw error;
  }
}

/** A pooled client for the work, released afterwards; destroyed instead if it broke. */
export async function withPooledClient<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    return await work(client);
  } finally {
    client.release(broken.has(client));
  }
}

/**
 * Runs `work`, then `cleanUp` however the work ended. After a failed work, a failed clean-up is
 * not what the caller is told: a connection that broke the work (cut, ended by the server) fails
 * the clean-up too, and only the work's own error says why.
 */
export async function withCleanup<T>(work: () => Promise<T>, cleanUp: () => Promise<unknown>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await cleanUp().catch(() => undefined);
    throw error;
  }
  await cleanUp();
  return result;
}

async function rollback(client: pg.ClientBase, cause: unknown): Promise<void> {
  if (isQueryReadTimeout(cause)) {
    broken.add(client);
    return;
  }
  try {
    await client.query('ROLLBACK');
  } catch {
    broken.add(client);
  }
}

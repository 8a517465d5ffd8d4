import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { isConnectTimeout, isDatabaseUnavailable } from './database-errors.js';
import { CONNECT_TIMEOUT_MS, liftTimeouts, longWorkConnectionConfig } from './postgres-pool.js';

/** The folder of the installed package (holding package.json), whether run from src or from dist. */
export const PACKAGE_ROOT = projectRoot();
export const MIGRATIONS_DIR = path.join(PACKAGE_ROOT, 'migrations');
const MIGRATIONS_TABLE = 'schema_migrations';

export interface MigrationOutcome {
  readonly applied: readonly string[];
  /** Migrations recorded as applied that this version does not have: a newer version applied them. */
  readonly newer: readonly string[];
}

/** How long a start waits for a database it cannot reach yet, and where it says so (connect). */
export interface DatabaseWait {
  readonly waitMs: number;
  readonly log: (line: string) => void;
}

const NO_WAIT: DatabaseWait = { waitMs: 0, log: () => undefined };

/**
 * Applies every pending migration in migrations/ and records it in schema_migrations. Several
 * service instances may start at once: the library's advisory lock makes the others wait and then
 * find nothing left to do, instead of failing. `wait`: for a database that does not answer yet.
 */
export async function runMigrations(
  connectionString: string,
  wait: DatabaseWait = NO_WAIT,
): Promise<MigrationOutcome> {
  const client = await connect(connectionString, wait);
  try {
    const ran = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      migrationsTable: MIGRATIONS_TABLE,
      direction: 'up',
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      log: () => undefined,
    });
    return { applied: ran.map((migration) => migration.name), newer: await newerMigrations(client) };
  } finally {
    await client.end();
  }
}

/**
 * The migrations recorded as applied that this version does not have, oldest first: after a
 * rollback, those a newer version applied. This version runs on such a schema (its own migrations
 * are all there), but what the newer ones changed is not its to rebuild.
 */
export async function newerMigrations(client: Pick<pg.ClientBase, 'query'>): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT name FROM public.${MIGRATIONS_TABLE} ORDER BY run_on, id`,
  );
  const known = new Set(await migrationNames());
  return rows.map((row) => row.name).filter((name) => !known.has(name));
}

/**
 * Checks, changing nothing, that every migration of this version has been applied: the auditor's
 * commands read a database they must not alter, and one pointed at the wrong database would
 * otherwise create the whole schema there and then report an empty log as consistent.
 */
export async function requireCurrentSchema(connectionString: string): Promise<{ newer: readonly string[] }> {
  const remedy = 'start the service on it (it applies the migrations) or run `npm run migrate`';
  const client = await connect(connectionString);
  try {
    const { rows } = await client.query<{ present: boolean }>(
      `SELECT to_regclass('public.${MIGRATIONS_TABLE}') IS NOT NULL AS present`,
    );
    if (!rows[0]?.present) throw new Error(`the database holds no tenancy schema: ${remedy}`);
    const applied = await client.query<{ name: string }>(`SELECT name FROM public.${MIGRATIONS_TABLE}`);
    const done = new Set(applied.rows.map((row) => row.name));
    const missing = (await migrationNames()).filter((name) => !done.has(name));
    if (missing.length > 0)
      throw new Error(
        `the database's tenancy schema is behind this version (not applied: ${missing.join(', ')}): ${remedy}`,
      );
    return { newer: await newerMigrations(client) };
  } finally {
    await client.end();
  }
}

/** The migrations of this version, by the names schema_migrations records (the file name, no extension). */
async function migrationNames(): Promise<string[]> {
  const files = await readdir(MIGRATIONS_DIR);
  return files
    .filter((file) => /\.(sql|js|ts)$/.test(file))
    .map((file) => file.replace(/\.[^.]+$/, ''))
    .sort();
}

/** The database refused or did not answer a new connection (see isDatabaseUnavailable). */
class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

/** The first pause between two tries of connect, doubled each time up to the last. */
const FIRST_TRY_PAUSE_MS = 500;
const LAST_TRY_PAUSE_MS = 5_000;

/**
 * Connects, trying again up to `wait.waitMs` while the database cannot be reached yet: one started
 * with the service (a compose file, a pod's sidecar) often answers a few seconds after it. Each
 * failed try is logged with its reason and the next try's time. Any other failure (a refused
 * login, a missing database) ends the wait at once; so does the deadline, with the last error.
 */
async function connect(connectionString: string, wait: DatabaseWait = NO_WAIT): Promise<pg.Client> {
  const deadline = Date.now() + wait.waitMs;
  for (let pause = FIRST_TRY_PAUSE_MS; ; pause = Math.min(pause * 2, LAST_TRY_PAUSE_MS)) {
    try {
      return await connectOnce(connectionString);
    } catch (error) {
      if (!(error instanceof DatabaseUnreachableError) || Date.now() + pause > deadline) throw error;
      const left = Math.round((deadline - Date.now()) / 1000);
      wait.log(`${error.message}; trying again in ${pause / 1000} s (giving up in ${left} s)`);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/**
 * The first connection of a start or a CLI run: a failure says plainly what failed, in one line.
 * It also refuses a database that cannot hold what clients send, before anything is created there.
 */
async function connectOnce(connectionString: string): Promise<pg.Client> {
  const client = new pg.Client({
    ...longWorkConnectionConfig(connectionString),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // A session cut meanwhile (while it waits for another instance's migration, say) fails the
  // statement under way, which says why. Its error event, with no one listening, ended the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    if (!isDatabaseUnavailable(error)) throw error;
    const reason = isConnectTimeout(error)
      ? `no answer within ${CONNECT_TIMEOUT_MS / 1000} s`
      : (error as Error).message;
    throw new DatabaseUnreachableError(`cannot reach the database: ${reason}`);
  }
  try {
    // Before, the database's statement bound cancelled a start's wait for another instance's
    // migration, and would cancel a migration that takes longer (an index on a large table).
    await liftTimeouts(client);
    await requireUnicode(client);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/**
 * Names and events hold whatever Unicode text clients send. On a database in another encoding the
 * service started, and then the append refused any text that encoding lacks: a 500 for a valid name.
 */
async function requireUnicode(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ database: string; encoding: string }>(
    `SELECT current_database() AS database, current_setting('server_encoding') AS encoding`,
  );
  const { database, encoding } = rows[0] ?? { database: '?', encoding: '?' };
  if (encoding !== 'UTF8') {
    throw new Error(
      `the database ${database} has the encoding ${encoding}; the service stores any Unicode text and needs a UTF8 database (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)`,
    );
  }
}

/** The folder holding package.json: migrations/ sits beside it, whether run from src or from dist. */
function projectRoot(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error('package.json not found above the migrations runner');
    directory = parent;
  }
  return directory;
}

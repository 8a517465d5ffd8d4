import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { isConnectTimeout, isDatabaseUnavailable } from './database-errors.js';
import { CONNECT_TIMEOUT_MS, liftTimeouts, longWorkConnectionConfig } from './postgres-pool.js';

export const MIGRATIONS_DIR = path.join(projectRoot(), 'migrations');
const MIGRATIONS_TABLE = 'schema_migrations';

export interface MigrationOutcome {
  readonly applied: readonly string[];
}

/**
 * Applies every pending migration in migrations/ and records it in schema_migrations. Several
 * service instances may start at once: the library's advisory lock makes the others wait and then
 * find nothing left to do, instead of failing.
 */
export async function runMigrations(
  connectionString: string,
  log: (line: string) => void = () => undefined,
): Promise<MigrationOutcome> {
  const client = await connect(connectionString);
  try {
    const ran = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      migrationsTable: MIGRATIONS_TABLE,
      direction: 'up',
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      log: (message: string) => log(message),
    });
    return { applied: ran.map((migration) => migration.name) };
  } finally {
    await client.end();
  }
}

/**
 * Checks, changing nothing, that every migration of this version has been applied: the auditor's
 * commands read a database they must not alter, and one pointed at the wrong database would
 * otherwise create the whole schema there and then report an empty log as consistent.
 */
export async function requireCurrentSchema(connectionString: string): Promise<void> {
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
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

/** The first pause between two tries of waitUntilReachable, doubled each time up to the last. */
const FIRST_TRY_PAUSE_MS = 500;
const LAST_TRY_PAUSE_MS = 5_000;

/**
 * Waits, up to `waitMs`, for a database that cannot be reached yet: one started with the service
 * (a compose file, a pod's sidecar) often answers a few seconds after it. Each failed try is
 * logged with its reason and the next try's time. Any other failure (a refused login, a missing
 * database) ends the wait at once; so does the deadline, with the last try's error.
 */
export async function waitUntilReachable(
  connectionString: string,
  waitMs: number,
  log: (line: string) => void,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let pause = FIRST_TRY_PAUSE_MS; ; pause = Math.min(pause * 2, LAST_TRY_PAUSE_MS)) {
    try {
      await (await connect(connectionString)).end();
      return;
    } catch (error) {
      if (!(error instanceof DatabaseUnreachableError) || Date.now() + pause > deadline) throw error;
      const left = Math.round((deadline - Date.now()) / 1000);
      log(`${error.message}; trying again in ${pause / 1000} s (giving up in ${left} s)`);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/**
 * The first connection of a start or a CLI run: a failure says plainly what failed, in one line.
 * It also refuses a database that cannot hold what clients send, before anything is created there.
 */
async function connect(connectionString: string): Promise<pg.Client> {
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

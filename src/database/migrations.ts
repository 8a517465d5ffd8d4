import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { isConnectTimeout, isDatabaseUnavailable } from './database-errors.js';
import { CONNECT_TIMEOUT_MS } from './postgres-pool.js';

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
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
  } catch (error) {
    if (!isDatabaseUnavailable(error)) throw error;
    // The first connection of a start or a CLI run: say plainly what failed, in one line.
    const reason = isConnectTimeout(error)
      ? `no answer within ${CONNECT_TIMEOUT_MS / 1000} s`
      : (error as Error).message;
    throw new Error(`cannot reach the database: ${reason}`);
  }
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

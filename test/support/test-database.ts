import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool } from '../../src/database/postgres-pool.js';
import { quoteIdentifier, withDatabase } from '../../src/database/database-urls.js';

export const TEMPLATE_DATABASE = 'tenancy_test_template';
export const TEST_SERVER_URL_VARIABLE = 'TENANCY_TEST_SERVER_URL';

export interface TestDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** The server of this jest worker (test/support/start-test-postgres.ts starts one per worker). */
export function testServerUrl(): string {
  const urls = (process.env[TEST_SERVER_URL_VARIABLE] ?? '').split(' ').filter((url) => url.length > 0);
  if (urls.length === 0)
    throw new Error(
      `${TEST_SERVER_URL_VARIABLE} is not set: run the tests through jest (test/support/global-setup.mjs)`,
    );
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  return urls[(worker - 1) % urls.length] as string;
}

/** A fresh, migrated database of its own for one test file: a clone of the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = testServerUrl();
  const name = `tenancy_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(serverUrl, (admin) =>
    admin.query(`CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE ${quoteIdentifier(TEMPLATE_DATABASE)}`),
  );
  const url = withDatabase(serverUrl, name);
  const pool = createPool({ connectionString: url, max: 30, applicationName: 'tenancy-test' });
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      await withAdmin(serverUrl, (admin) =>
        admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
      );
    },
  };
}

/** Work on a connection of its own to the test server's maintenance database, closed after. */
export async function withAdmin<T>(serverUrl: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

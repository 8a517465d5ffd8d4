import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.server.js';
import { runMigrations } from '../../src/database/migrations.js';
import { quoteIdentifier, withDatabase } from '../../src/database/database-urls.js';
import { TEMPLATE_DATABASE, TEST_SERVER_URL_VARIABLE } from './test-database.js';

/**
 * Starts one throw-away embedded PostgreSQL for the whole run (or uses the server named by
 * DATABASE_URL), migrates a template database once, and lets every test file clone it.
 */
export async function startTestPostgres(): Promise<void> {
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    // Not mkdtemp: its 0700 directory would shut out the system user PostgreSQL runs as under root.
    const dataDir = path.join(os.tmpdir(), `tenancy-test-pg-${randomBytes(6).toString('hex')}`);
    const server = await startEmbeddedPostgres({ dataDir, persistent: false });
    (globalThis as { __TEST_POSTGRES__?: unknown }).__TEST_POSTGRES__ = server;
    serverUrl = server.adminUrl;
  }
  process.env[TEST_SERVER_URL_VARIABLE] = serverUrl;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(TEMPLATE_DATABASE)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quoteIdentifier(TEMPLATE_DATABASE)}`);
  } finally {
    await admin.end();
  }
  await runMigrations(withDatabase(serverUrl, TEMPLATE_DATABASE));
}

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { withDatabase } from '../../src/database/database-urls.js';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.server.js';
import { runMigrations } from '../../src/database/migrations.js';

/**
 * For the diagnostics in bench/tools: a throw-away embedded PostgreSQL with one migrated database,
 * whose URL `work` gets; the server and its data are gone afterwards.
 */
export async function withDiagnosticDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const dataDir = path.join(os.tmpdir(), `tenancy-bench-diag-${randomBytes(6).toString('hex')}`);
  const server = await startEmbeddedPostgres({ dataDir, persistent: false });
  try {
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE diag');
    await admin.end();
    const url = withDatabase(server.adminUrl, 'diag');
    await runMigrations(url);
    return await work(url);
  } finally {
    await server.stop();
  }
}

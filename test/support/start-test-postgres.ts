import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/database/embedded-postgres.server.js';
import { runMigrations } from '../../src/database/migrations.js';
import { guardServer, type ServerGuard } from '../../src/database/server-guard.js';
import { quoteIdentifier, withDatabase } from '../../src/database/database-urls.js';
import { TEMPLATE_DATABASE, TEST_SERVER_URL_VARIABLE } from './test-database.js';

/**
 * Starts one throw-away embedded PostgreSQL for each of jest's workers (or uses the server named
 * by DATABASE_URL), migrates a template database on each, and lets every test file clone it.
 *
 * A server per worker, because the test files running side by side must not share a cluster: the
 * log's horizon is the cluster's oldest running transaction, whatever its database, so one file's
 * open transaction holds another file's reads of its own log back; and some files use up what the
 * whole server shares (its lock table, its connection slots) on purpose. Each worker runs its files
 * one after another, so each server serves one file at a time.
 */
export async function startTestPostgres(workers: number): Promise<void> {
  useRunScratch();
  const serverUrls: string[] = [];
  if (process.env.DATABASE_URL) {
    serverUrls.push(process.env.DATABASE_URL);
  } else {
    // One after the other: a start may first set up the binaries' copy and the system user the
    // server runs as (under root), and each picks a free port.
    for (let worker = 0; worker < Math.max(1, workers); worker++) {
      // Not mkdtemp: its 0700 directory would shut out the system user PostgreSQL runs as under root.
      const dataDir = path.join(os.tmpdir(), `tenancy-test-pg-${randomBytes(6).toString('hex')}`);
      const server = await startEmbeddedPostgres({ dataDir, persistent: false });
      startedServers().push(server);
      serverUrls.push(server.adminUrl);
    }
  }
  process.env[TEST_SERVER_URL_VARIABLE] = serverUrls.join(' ');
  await Promise.all(serverUrls.map((serverUrl) => migrateTemplate(serverUrl)));
}

/** The servers this process started, for stopTestPostgres. */
export function startedServers(): RunningPostgres[] {
  const holder = globalThis as { __TEST_POSTGRES__?: RunningPostgres[] };
  holder.__TEST_POSTGRES__ ??= [];
  return holder.__TEST_POSTGRES__;
}

/** The run's temporary directory and what removes it, for stopTestPostgres. */
export function runScratch(): { directory?: string; guard?: ServerGuard } {
  const holder = globalThis as { __TEST_RUN_SCRATCH__?: { directory?: string; guard?: ServerGuard } };
  holder.__TEST_RUN_SCRATCH__ ??= {};
  return holder.__TEST_RUN_SCRATCH__;
}

/**
 * Points the run's temporary directory (TMPDIR, which jest's workers, the services and the CLI
 * they start inherit) at a directory of its own, removed with the run however it ends: the test
 * servers' data, the tests' scratch directories and the services' data under them. A run stopped
 * by `timeout` ends its workers with SIGTERM, before any test's clean-up could run.
 */
function useRunScratch(): void {
  const directory = path.join(os.tmpdir(), `tenancy-test-run-${randomBytes(6).toString('hex')}`);
  mkdirSync(directory);
  // Open to the system user PostgreSQL runs as under root (not mkdtemp's 0700, nor the umask's).
  chmodSync(directory, 0o755);
  // No server runs on the directory itself: its guard only removes it, once the run is gone.
  Object.assign(runScratch(), { directory, guard: guardServer(directory, 'remove') });
  process.env.TMPDIR = directory;
}

async function migrateTemplate(serverUrl: string): Promise<void> {
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

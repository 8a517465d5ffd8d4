import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { openRuntime } from '../../src/app/runtime.js';
import { loadConfig } from '../../src/config/app-config.js';
import { withDatabase } from '../../src/database/database-urls.js';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.server.js';

/**
 * With no DATABASE_URL the runtime starts the embedded PostgreSQL, then prepares its database. A
 * start that goes no further than the server leaves no server behind.
 */
describe('the runtime on the embedded PostgreSQL', () => {
  let folder: string;
  let postgresDir: string;

  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'tenancy-runtime-'));
    // Reachable by the postgres system user the server runs as under root.
    await chmod(folder, 0o755);
    postgresDir = path.join(folder, 'postgres');
  });
  afterAll(async () => {
    // Should a server have been left running, it goes now rather than with the test process.
    const pidFile = path.join(postgresDir, 'postmaster.pid');
    if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT');
    await rm(folder, { recursive: true, force: true });
  });

  it('names where its embedded server listens (password hidden), and comes back on that port when started again', async () => {
    const dataRoot = path.join(folder, 'named');
    const pidFile = path.join(dataRoot, 'postgres', 'postmaster.pid');
    const portNow = () => Number(readFileSync(pidFile, 'utf8').split('\n')[3]);
    const first = await openRuntime(loadConfig({ TENANCY_DATA_DIR: dataRoot }), () => undefined);
    const port = portNow();
    try {
      expect(first.description).toBe(
        `events and read models in embedded PostgreSQL at postgres://postgres:***@127.0.0.1:${port}/tenancy`,
      );
    } finally {
      await first.close();
    }
    const again = await openRuntime(loadConfig({ TENANCY_DATA_DIR: dataRoot }), () => undefined);
    try {
      expect(portNow()).toBe(port);
    } finally {
      await again.close();
    }
  }, 60_000);

  it('stops the server it started when the database cannot be prepared', async () => {
    // A cluster whose maintenance database refuses connections: the database cannot be created.
    const server = await startEmbeddedPostgres({ dataDir: postgresDir, persistent: true });
    const admin = new pg.Client({ connectionString: withDatabase(server.adminUrl, 'template1') });
    await admin.connect();
    try {
      await admin.query('ALTER DATABASE postgres ALLOW_CONNECTIONS false');
    } finally {
      await admin.end();
    }
    await server.stop();

    await expect(openRuntime(loadConfig({ TENANCY_DATA_DIR: folder }), () => undefined)).rejects.toThrow(
      'is not currently accepting connections',
    );
    expect(existsSync(path.join(postgresDir, 'postmaster.pid'))).toBe(false);
  }, 60_000);
});

import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.server.js';
import { call, startServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait-for.js';
import { isAlive, scratchDir, useCleanups } from './fault-kit.js';

/**
 * A server, database or role may commit asynchronously by default (synchronous_commit off, a
 * setting some operators choose for speed): a commit then returns before its record is written
 * to disk, and a crash in the next moments (up to three times wal_writer_delay) forgets it. The
 * service acknowledges a write once its append has committed, so on such a database an
 * acknowledged write could be lost.
 */
describe('a database that commits asynchronously by default', () => {
  const cleanup = useCleanups();

  /** The server's processes: the postmaster and its children. */
  const serverProcesses = (postmasterPid: number): number[] => {
    const children = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          return Number(stat.split(') ')[1]?.split(' ')[1]) === postmasterPid;
        } catch {
          return false;
        }
      })
      .map(Number);
    return [postmasterPid, ...children];
  };

  it('keeps every acknowledged write when the server is killed right after it', async () => {
    const dataDir = path.join(scratchDir(cleanup, 'tenancy-fault'), 'external');
    const server = await startEmbeddedPostgres({ dataDir, persistent: true, stopWithProcess: true });
    cleanup(() => server.stop());
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    try {
      await admin.query('CREATE DATABASE tenancy');
      await admin.query('ALTER DATABASE tenancy SET synchronous_commit = off');
      // The WAL writer flushes what was committed at most every 10 s: a window a test can hit.
      await admin.query(`ALTER SYSTEM SET wal_writer_delay = '10s'`);
      await admin.query('SELECT pg_reload_conf()');
    } finally {
      await admin.end();
    }
    const url = new URL(server.adminUrl);
    url.pathname = '/tenancy';
    const service = await startServiceProcess({ env: { DATABASE_URL: url.toString() } });
    cleanup(() => service.stop());

    const tenant = await call(service, 'POST', '/v1/tenants', { name: `Async ${randomUUID()}` });
    expect(tenant.status).toBe(201);
    const acknowledged: string[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await call(service, 'POST', `/v1/tenants/${String(tenant.body.tenantId)}/workspaces`, {
        name: `Kept ${i}`,
      });
      expect(created.status).toBe(201);
      acknowledged.push(String(created.body.workspaceId));
    }

    // A crash: every process of the server stopped at once, then killed, with what it held.
    const killed = server.pid();
    expect(killed).toBeDefined();
    const processes = serverProcesses(killed!);
    for (const pid of processes) process.kill(pid, 'SIGSTOP');
    for (const pid of processes) process.kill(pid, 'SIGKILL');
    await waitFor(async () => processes.every((pid) => !isAlive(pid)), 10_000);
    // The server is started again by its owner, and recovers from its log on disk.
    await waitFor(async () => {
      const again = server.pid();
      return again !== undefined && again !== killed && isAlive(again);
    }, 30_000);
    await waitFor(async () => (await call(service, 'GET', '/health/ready')).status === 200, 30_000);

    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string }>(
        `SELECT a.id FROM unnest($1::text[]) AS a(id)
         WHERE NOT EXISTS (SELECT 1 FROM events e
                           WHERE e.event_type = 'WorkspaceCreated' AND e.data->>'workspaceId' = a.id)`,
        [acknowledged],
      );
      expect({ lost: rows.map((row) => row.id), of: acknowledged.length }).toEqual({ lost: [], of: 20 });
    } finally {
      await client.end();
    }
  }, 120_000);
});

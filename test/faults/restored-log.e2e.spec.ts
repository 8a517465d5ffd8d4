import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { withDatabase } from '../../src/database/database-urls.js';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.server.js';
import { runMigrations } from '../../src/database/migrations.js';
import { call, PROJECT_ROOT, spawnServiceProcess, startServiceProcess } from '../support/service-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import { scratchDir, useCleanups } from './fault-kit.js';

const run = promisify(execFile);
/** The log's tables, as a logical copy (pg_dump and pg_restore, logical replication) carries them. */
const LOG_TABLES = ['event_streams', 'events'] as const;

/**
 * A log's positions follow PostgreSQL's transaction ids (docs/adr/0002), which are the cluster's
 * own: a physical copy (a base backup, pg_upgrade) keeps them, a logical one does not. Restored
 * into a cluster whose transaction ids are behind the log's, every new event would sort before the
 * log's end, where no reader looks again, and the log's own events would stay above the readers'
 * horizon until the cluster's ids caught up.
 */
describe('an event log restored from a logical copy into a cluster whose transaction ids are behind it', () => {
  const cleanup = useCleanups();

  it('the service and the CLI refuse to open it, and say why and how to move a log', async () => {
    // The original: a database of the tests' cluster, whose transaction ids are moved on first.
    const source = await createTestDatabase();
    cleanup(() => source.drop());
    for (let i = 0; i < 20; i++) {
      await source.pool.query('BEGIN; SELECT pg_current_xact_id(); COMMIT; '.repeat(1_000));
    }
    const original = await startServiceProcess({ env: { DATABASE_URL: source.url } });
    const tenant = await call(original, 'POST', '/v1/tenants', { name: `Restored ${randomUUID()}` });
    expect(tenant.status).toBe(201);
    expect(await original.stop()).toBe(0);

    // The copy: a new cluster (the service's embedded one), its schema migrated, the log's rows
    // loaded with their own values, as a restore does.
    const dataRoot = scratchDir(cleanup, 'tenancy-restored');
    await mkdir(dataRoot);
    const server = await startEmbeddedPostgres({
      dataDir: path.join(dataRoot, 'postgres'),
      persistent: true,
    });
    try {
      const admin = new pg.Client({ connectionString: server.adminUrl });
      await admin.connect();
      await admin.query('CREATE DATABASE tenancy');
      await admin.end();
      const copyUrl = withDatabase(server.adminUrl, 'tenancy');
      await runMigrations(copyUrl);
      const copy = new pg.Client({ connectionString: copyUrl });
      await copy.connect();
      try {
        for (const table of LOG_TABLES) {
          const { rows } = await source.pool.query<{ rows: unknown }>(
            `SELECT coalesce(json_agg(t), '[]') AS rows FROM ${table} t`,
          );
          await copy.query(
            `INSERT INTO ${table} OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset(NULL::${table}, $1)`,
            [JSON.stringify(rows[0]?.rows)],
          );
        }
        await copy.query(
          `SELECT setval(pg_get_serial_sequence('events', 'global_position'), max(global_position)) FROM events`,
        );
        const { rows } = await copy.query<{ ahead: boolean }>(
          `SELECT max(transaction_id::text::numeric) >= pg_snapshot_xmax(pg_current_snapshot())::text::numeric AS ahead
             FROM events`,
        );
        expect(rows).toEqual([{ ahead: true }]);
      } finally {
        await copy.end();
      }
    } finally {
      await server.stop();
    }

    const restored = spawnServiceProcess({ env: { DATABASE_URL: '', TENANCY_DATA_DIR: dataRoot } });
    cleanup(async () => {
      if (!restored.hasExited()) restored.child.kill('SIGKILL');
    });
    await waitFor(async () => restored.hasExited(), 60_000).catch(() => undefined);
    expect(restored.hasExited()).toBe(true);
    expect(await restored.exited).toBe(1);
    expect(restored.output()).toMatch(
      /the event log holds transaction ids up to \d+, ahead of this PostgreSQL cluster's next one \(\d+\)/,
    );
    expect(restored.output()).toMatch(/tenancy export --all/);
    // The CLI too: an export would read nothing past the horizon, and end with a count that agrees.
    const exported = await run(process.execPath, ['bin/tenancy.js', 'export', '--all'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: '', TENANCY_DATA_DIR: dataRoot },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect([exported.code, exported.stdout]).toEqual([1, '']);
    expect(exported.stderr).toMatch(/^tenancy export: the event log holds transaction ids up to \d+/m);
  }, 180_000);
});

import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { TenantCommandExecutor } from '../../src/application/commands/tenant-command.executor.js';
import { runTenancyCli } from '../../src/cli/tenancy.cli.js';
import type { Position } from '../../src/event-store/event-store.port.js';
import { REPLAY_SCHEMA } from '../../projections/read-model.replay.js';
import { rebuildReadModels } from '../../projections/read-model.rebuild.js';
import { READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { capture } from '../support/capture.js';
import { writeHistory, type HistoryFixture } from './history-fixture.js';
import { createPool } from '../../src/database/postgres-pool.js';

/** replay, verify and audit: the auditor's tools on the read models, against a long real history. */
describe('tenancy replay, verify and audit', () => {
  let app: TestApp;
  let fixture: HistoryFixture;

  const cli = async (argv: string[]) => {
    const stdout = capture();
    const stderr = capture();
    const code = await runTenancyCli(argv, {
      stdin: new PassThrough(),
      stdout,
      stderr,
      openEventStore: async () => ({
        eventStore: app.runtime.eventStore,
        pool: app.database.pool,
        close: async () => undefined,
      }),
    });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  };
  const caughtUp = async () => {
    const head = (await app.runtime.eventStore.headPosition()) ?? '';
    await waitFor(async () => {
      const { rows } = await app.database.pool.query<{ position: string }>(
        'SELECT position FROM read_model.checkpoints',
      );
      return rows.length === READ_MODEL_PROJECTIONS.length && rows.every((row) => row.position >= head);
    }, 60_000);
  };
  const snapshot = async () =>
    (
      await app.database.pool.query(
        `SELECT (SELECT md5(string_agg(w::text, ',' ORDER BY w.tenant_id, w.workspace_id)) FROM read_model.workspaces w) AS workspaces,
                (SELECT md5(string_agg(a::text, ',' ORDER BY a.position)) FROM read_model.audit_log a) AS audit,
                (SELECT md5(string_agg(t::text, ',' ORDER BY t.tenant_id)) FROM read_model.tenants t) AS tenants`,
      )
    ).rows[0];

  beforeAll(async () => {
    app = await startTestApp();
    fixture = await writeHistory(app.app.get(TenantCommandExecutor), async (tenantId) => {
      const response = await request(app.server)
        .post('/v1/tenants')
        .set(AUTH)
        .send({ tenantId, name: `Audited ${tenantId}` });
      expect(response.status).toBe(201);
    });
    // Members, groups and grants, so that their read model is compared and replayed too.
    const T = `/v1/tenants/${fixture.liveTenantId}`;
    const http = () => request(app.server);
    const group = (await http().post(`${T}/groups`).set(AUTH).send({ name: 'Auditors' })).body as {
      groupId: string;
    };
    for (let index = 0; index < 20; index++) {
      await http()
        .put(`${T}/members/auditor-${index}`)
        .set(AUTH)
        .send({ displayName: `Auditor ${index}` });
      if (index % 2 === 0)
        await http().put(`${T}/groups/${group.groupId}/members/auditor-${index}`).set(AUTH);
      await http()
        .post(`${T}/grants`)
        .set(AUTH)
        .send({
          principal: { type: 'user', id: `auditor-${index}` },
          role: index % 3 === 0 ? 'admin' : 'viewer',
        });
    }
    await http().delete(`${T}/members/auditor-4`).set(AUTH);
    await caughtUp();
  }, 180_000);
  afterAll(async () => {
    await app.close();
  });

  it('the history holds thousands of events, renames, cascades and a deleted tenant', async () => {
    const { rows } = await app.database.pool.query<{ type: string; count: number }>(
      `SELECT event_type AS type, count(*)::int AS count FROM events WHERE stream_name LIKE 'tenant-%' GROUP BY 1`,
    );
    const counts = Object.fromEntries(rows.map((row) => [row.type, row.count]));
    expect(rows.reduce((sum, row) => sum + row.count, 0)).toBeGreaterThan(2000);
    expect(counts.WorkspaceRenamed).toBeGreaterThan(0);
    expect(counts.WorkspaceDeletionStarted).toBeGreaterThan(0);
    expect(counts.TenantDeleted).toBe(1);
  });

  it('verify: the live read models match a replay of the log, exit code 0', async () => {
    const result = await cli(['verify']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/read models match the event log/);
    expect(result.stdout).toMatch(/ok\s+workspaces/);
    for (const table of ['members', 'member_groups', 'group_members', 'grants'])
      expect(result.stdout).toMatch(new RegExp(`ok\\s+${table}`));
  }, 120_000);

  it('verify: a corrupted read-model row is detected, exit code 1; replay repairs it while the service keeps running', async () => {
    const before = await snapshot();
    await app.database.pool.query(
      `BEGIN; SET LOCAL ROLE tenancy_projector;
       UPDATE read_model.workspaces SET name = 'tampered' WHERE workspace_id = (SELECT workspace_id FROM read_model.workspaces WHERE NOT is_root LIMIT 1);
       UPDATE read_model.grants SET role = 'admin' WHERE grant_id = (SELECT grant_id FROM read_model.grants WHERE role = 'viewer' LIMIT 1);
       COMMIT`,
    );
    const detected = await cli(['verify', '--json']);
    expect(detected.code).toBe(1);
    const report = JSON.parse(detected.stdout) as {
      identical: boolean;
      tables: { table: string; onlyLeft: number; onlyRight: number }[];
    };
    expect(report.identical).toBe(false);
    expect(report.tables.find((table) => table.table === 'workspaces')).toMatchObject({
      onlyLeft: 1,
      onlyRight: 1,
    });
    expect(report.tables.find((table) => table.table === 'grants')).toMatchObject({
      onlyLeft: 1,
      onlyRight: 1,
    });

    // Writes keep flowing while the replay runs; the live projector continues after the swap.
    const writing = (async () => {
      for (let i = 0; i < 20; i++) {
        await request(app.server)
          .post(`/v1/tenants/${fixture.liveTenantId}/workspaces`)
          .set(AUTH)
          .send({ name: `During replay ${i}` });
      }
    })();
    const replayed = await cli(['replay']);
    await writing;
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toMatch(/tenancy-read-model: \d+ events replayed, swapped in/);

    const created = await request(app.server)
      .post(`/v1/tenants/${fixture.liveTenantId}/workspaces`)
      .set(AUTH)
      .send({ name: 'After replay' });
    const read = await request(app.server)
      .get(`/v1/tenants/${fixture.liveTenantId}/workspaces/${created.body.workspaceId}`)
      .set(AUTH)
      .set('Min-Position', created.body.position);
    expect(read.status).toBe(200);
    await caughtUp();
    const after = await cli(['verify']);
    expect(after.code).toBe(0);
    const tampered = await app.database.pool.query(
      `SELECT count(*)::int AS count FROM read_model.workspaces WHERE name = 'tampered'`,
    );
    expect(tampered.rows[0]).toEqual({ count: 0 });
    // The swapped-in tables were loaded with row-level security off; it is back on, and forced.
    const security = await app.database.pool.query<{ table: string; enabled: boolean; forced: boolean }>(
      `SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'read_model' AND c.relname IN ('tenants', 'workspaces', 'audit_log') ORDER BY 1`,
    );
    expect(security.rows).toEqual(
      ['audit_log', 'tenants', 'workspaces'].map((table) => ({ table, enabled: true, forced: true })),
    );
    expect(before).toBeDefined();
  }, 180_000);

  /** A rebuild stopped part way into the replay's schema, as an interrupted replay keeps it. */
  const keepUnfinishedReplay = async () => {
    const client = await app.database.pool.connect();
    try {
      const { rows } = await client.query<{ position: string }>(
        `SELECT position FROM read_model.audit_log ORDER BY position LIMIT 1 OFFSET 500`,
      );
      await rebuildReadModels({
        store: app.runtime.eventStore,
        client,
        schema: REPLAY_SCHEMA,
        until: rows[0]?.position as Position,
      });
    } finally {
      client.release();
    }
  };

  it('replay resumes an interrupted rebuild instead of starting over', async () => {
    await keepUnfinishedReplay();
    const before = await snapshot();
    const resumed = await cli(['replay', '--projection', 'audit-log']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/audit-log: \d+ events replayed \(resumed\)/);
    expect(resumed.stdout).not.toMatch(/tenancy-read-model/);
    await caughtUp();
    expect((await snapshot())?.audit).toBe(before?.audit);
    expect((await cli(['verify'])).code).toBe(0);
  }, 180_000);

  it('replay starts over, saying so, rather than resume a rebuild another release kept', async () => {
    await keepUnfinishedReplay();
    // As a `tenancy replay` of another release leaves it: its projections may differ from these.
    await app.database.pool.query(
      `COMMENT ON SCHEMA ${REPLAY_SCHEMA} IS 'tenancy 0.0.1 (event schema version 1)'`,
    );
    const run = await cli(['replay', '--projection', 'audit-log']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('built by tenancy 0.0.1 (event schema version 1)');
    expect(run.stdout).toMatch(/audit-log: \d+ events replayed, swapped in/);
    expect(run.stdout).not.toMatch(/resumed/);
    await caughtUp();
    expect((await cli(['verify'])).code).toBe(0);
  }, 180_000);

  it('verify that fails part way stops its progress bar, so that the process can exit', async () => {
    for (const command of ['verify']) {
      const store = app.runtime.eventStore;
      const stderr = capture();
      // The log becomes unusable once the progress bar is drawn: every use of the store fails from then on.
      const failing = new Proxy(store, {
        get: (target, key) => {
          const value: unknown = Reflect.get(target, key);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]): unknown => {
            if (stderr.text().includes('replaying')) throw new Error('the log went away');
            return (value as (...parameters: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      const code = await runTenancyCli([command], {
        stdin: new PassThrough(),
        stdout: capture(),
        stderr,
        openEventStore: async () => ({
          eventStore: failing,
          pool: app.database.pool,
          close: async () => undefined,
        }),
      });
      expect({ command, code, failed: stderr.text().includes('the log went away') }).toEqual({
        command,
        code: 1,
        failed: true,
      });
      const written = stderr.text().length;
      // A bar left running redraws itself every 2 s, and keeps the process alive for ever.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect({ command, after: stderr.text().length }).toEqual({ command, after: written });
    }
  });

  it('audit: who did what and when in a tenant, filtered by workspace and actor', async () => {
    const all = await cli(['audit', '--tenant', fixture.liveTenantId, '--json', '--limit', '100000']);
    expect(all.code).toBe(0);
    const rows = all.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { position: string; type: string; workspaceId: string | null; actor: string },
      );
    const { rows: stream } = await app.database.pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM events WHERE stream_name = $1',
      [`tenant-${fixture.liveTenantId}`],
    );
    expect(rows).toHaveLength(stream[0]?.count ?? -1);
    expect(rows.map((row) => row.position)).toEqual([...rows.map((row) => row.position)].sort());
    expect(rows[0]?.type).toBe('TenantCreated');

    const workspaceId = rows.find((row) => row.type === 'WorkspaceRenamed')?.workspaceId as string;
    const aboutOne = await cli([
      'audit',
      '--tenant',
      fixture.liveTenantId,
      '--workspace',
      workspaceId,
      '--json',
    ]);
    const aboutRows = aboutOne.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { workspaceId: string; type: string });
    expect(aboutRows.length).toBeGreaterThan(1);
    expect(aboutRows.every((row) => row.workspaceId === workspaceId)).toBe(true);

    const byOperator = await cli([
      'audit',
      '--tenant',
      fixture.liveTenantId,
      '--actor',
      'operator',
      '--json',
    ]);
    const operatorRows = byOperator.stdout.trim().split('\n').filter(Boolean);
    expect(operatorRows.length).toBeGreaterThan(0);
    expect(operatorRows.length).toBeLessThan(rows.length);

    const firstTwo = await cli(['audit', '--tenant', fixture.liveTenantId, '--json', '--limit', '2']);
    expect(firstTwo.stdout.trim().split('\n')).toHaveLength(2);
    expect(firstTwo.stderr).toMatch(/^Only the first 2 entries: more match; raise --limit to see them\.$/m);
    expect(all.stderr).not.toMatch(/Only the first/);
    const firstOne = await cli(['audit', '--tenant', fixture.liveTenantId, '--json', '--limit', '1']);
    expect(firstOne.stderr).toMatch(/^Only the first entry: more match; raise --limit to see them\.$/m);

    const nothing = await cli(['audit', '--tenant', fixture.liveTenantId, '--actor', 'nobody']);
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toMatch(/No audit entries/);
    const unknown = await cli(['audit', '--tenant', randomUUID()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^No tenant .* in the event store\.$/m);
    expect((await cli(['audit', '--tenant', 'nope'])).code).toBe(2);
  });
  it("audit reads its tenant's rows, not a walk of every tenant's", async () => {
    // Another tenant's audit rows, many and earlier in the log than the audited tenant's.
    const other = randomUUID();
    await app.database.pool.query(
      `INSERT INTO read_model.audit_log (position, tenant_id, stream_revision, event_type, occurred_at)
       SELECT '0000000000000000-' || lpad(to_hex(i), 16, '0'), $1, i, 'TenantRenamed', now()
       FROM generate_series(1, 5000) AS i`,
      [other],
    );
    // With statistics, as autovacuum keeps them for a log that grew over time.
    await app.database.pool.query('ANALYZE read_model.audit_log');
    // The command on a pool of one connection, whose statistics are flushed before they are read.
    const pool = createPool({ connectionString: app.database.url, max: 1, applicationName: 'audit-test' });
    const rowsRead = async (): Promise<number> => {
      await pool.query('SELECT pg_stat_force_next_flush()');
      const { rows } = await pool.query<{ read: string }>(
        `SELECT pg_stat_clear_snapshot(), coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS read
         FROM pg_stat_user_tables WHERE schemaname = 'read_model' AND relname = 'audit_log'`,
      );
      return Number(rows[0]?.read);
    };
    try {
      const before = await rowsRead();
      const stdout = capture();
      const code = await runTenancyCli(
        ['audit', '--tenant', fixture.liveTenantId, '--json', '--limit', '20'],
        {
          stdin: new PassThrough(),
          stdout,
          stderr: capture(),
          openEventStore: async () => ({
            eventStore: app.runtime.eventStore,
            pool,
            close: async () => undefined,
          }),
        },
      );
      const read = (await rowsRead()) - before;
      expect(code).toBe(0);
      expect(stdout.text().trim().split('\n')).toHaveLength(20);
      expect(read).toBeGreaterThanOrEqual(20);
      expect(read).toBeLessThan(1_000);
    } finally {
      await pool.end();
      await app.database.pool.query('DELETE FROM read_model.audit_log WHERE tenant_id = $1', [other]);
    }
  });
});

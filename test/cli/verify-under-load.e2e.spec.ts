import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import request from 'supertest';
import { COMPARED_TABLES } from '../../projections/read-model.comparison.js';
import { dropReadModelSchema, rebuildReadModels } from '../../projections/read-model.rebuild.js';
import { runTenancyCli } from '../../src/cli/tenancy.cli.js';
import { capture } from '../support/capture.js';
import { call, PROJECT_ROOT } from '../support/service-process.js';
import type { EventStore } from '../../src/event-store/event-store.port.js';
import { AUTH, startTestAppOn, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import { useServiceWithTenant } from '../faults/fault-kit.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `tenancy verify` as an auditor runs it against a busy service: the live read models move all the
 * time, and verify must still compare them with the log at one fixed point of it.
 */
describe('tenancy verify while the service is busy', () => {
  const env = useServiceWithTenant('Verified under load');

  /** The run's one-line failure, if it failed. */
  const failures = (run: Run) => run.stderr.split('\n').filter((line) => line.startsWith('tenancy verify:'));

  const verify = (args: string[] = []): Promise<Run> => {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['bin/tenancy.js', 'verify', ...args],
        {
          cwd: PROJECT_ROOT,
          env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: env.database.url },
          timeout: 30_000,
        },
        (error, stdout, stderr) =>
          resolve({
            code: error ? ((error as { code?: number }).code ?? null) : 0,
            stdout,
            stderr,
          }),
      );
    });
  };

  /**
   * `clients` writers, each one request at a time until stopped: most create workspaces, every
   * fourth adds members. Also watches readiness, to see whether the log's horizon was held back.
   */
  const startLoad = (clients: number) => {
    let running = true;
    const statuses: Record<string, number> = {};
    const horizon = new Set<string>();
    const T = `/v1/tenants/${env.tenantId}`;
    const writer = async (client: number) => {
      for (let n = 0; running; n++) {
        const answer =
          client % 4 === 3
            ? await call(env.service, 'PUT', `${T}/members/writer-${client}-${n}`, {
                displayName: `Writer ${client}-${n}`,
              })
            : await call(env.service, 'POST', `${T}/workspaces`, { name: `Busy ${client}-${n}` });
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      }
    };
    const watcher = async () => {
      while (running) {
        const ready = await call(env.service, 'GET', '/health/ready');
        const details = ready.body.details as { logHorizon?: { status?: string } } | undefined;
        horizon.add(details?.logHorizon?.status ?? 'absent');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const all = [...Array.from({ length: clients }, (_, client) => writer(client)), watcher()];
    return {
      statuses,
      horizon,
      async stop() {
        running = false;
        await Promise.all(all);
      },
    };
  };

  it('compares at one point of the log: clean under 16 writers, and a tampered row and a missing one still found', async () => {
    // A second tenant with a workspace and a member no writer touches: the rows to tamper with.
    const quiet = await call(env.service, 'POST', '/v1/tenants', { name: `Quiet ${randomUUID()}` });
    expect(quiet.status).toBe(201);
    const quietWorkspace = await call(
      env.service,
      'POST',
      `/v1/tenants/${String(quiet.body.tenantId)}/workspaces`,
      {
        name: 'Untouched',
      },
    );
    expect(quietWorkspace.status).toBe(201);
    const quietMember = await call(
      env.service,
      'PUT',
      `/v1/tenants/${String(quiet.body.tenantId)}/members/quiet-member`,
      { displayName: 'Quiet' },
    );
    expect(quietMember.status).toBe(201);
    // A log with some length to it, so that the replay takes a while and the load runs through it.
    for (let batch = 0; batch < 10; batch++)
      await Promise.all(
        Array.from({ length: 30 }, async (_, index) =>
          expect(
            (
              await call(env.service, 'POST', `/v1/tenants/${env.tenantId}/workspaces`, {
                name: `Before ${batch}-${index}`,
              })
            ).status,
          ).toBe(201),
        ),
      );

    const load = startLoad(16);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const written = () => load.statuses['201'] ?? 0;
      const before = written();
      const clean = await verify();
      const duringClean = written() - before;
      expect({ code: clean.code, stdout: clean.stdout, failures: failures(clean) }).toEqual({
        code: 0,
        stdout: expect.stringMatching(/read models match the event log/),
        failures: [],
      });

      const tampered = await env.database.pool.query(
        `UPDATE read_model.workspaces SET name = 'tampered' WHERE workspace_id = $1`,
        [quietWorkspace.body.workspaceId],
      );
      expect(tampered.rowCount).toBe(1);
      // And a row gone: only the replay has it.
      const removed = await env.database.pool.query(
        `DELETE FROM read_model.members WHERE tenant_id = $1 AND user_id = 'quiet-member'`,
        [quiet.body.tenantId],
      );
      expect(removed.rowCount).toBe(1);
      const beforeDetected = written();
      const detected = await verify(['--json']);
      const duringDetected = written() - beforeDetected;
      expect({ code: detected.code, failures: failures(detected) }).toEqual({ code: 1, failures: [] });
      const report = JSON.parse(detected.stdout) as {
        identical: boolean;
        tables: { table: string; onlyLeft: number; onlyRight: number }[];
      };
      expect(report.identical).toBe(false);
      expect(report.tables.filter((table) => table.onlyLeft !== 0 || table.onlyRight !== 0)).toEqual([
        expect.objectContaining({ table: 'workspaces', onlyLeft: 1, onlyRight: 1 }),
        expect.objectContaining({ table: 'members', onlyLeft: 0, onlyRight: 1 }),
      ]);
      // The writers kept the read models moving all through both runs.
      expect(Math.min(duringClean, duringDetected)).toBeGreaterThan(50);
    } finally {
      await load.stop();
    }
    // Every write succeeded, and verify never held the log back for the service's readers.
    expect(Object.keys(load.statuses)).toEqual(['201']);
    expect([...load.horizon]).toEqual(['up']);
  }, 60_000);
});

/**
 * A replay swaps its rebuilt tables in (renamed into the live schema, checkpoints replaced) just as
 * verify opens its snapshot: verify must see either both the old tables and checkpoints or both the
 * new ones, never the old checkpoints with the new tables.
 */
describe('tenancy verify while a replay swaps its tables in', () => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    await database?.drop();
  });

  /** A tenant with `count` workspaces, written through the app; resolves with the tenant's path. */
  const writeWorkspaces = async (app: TestApp, count: number, tenantPath?: string): Promise<string> => {
    let T = tenantPath;
    if (T === undefined) {
      const tenant = await request(app.server).post('/v1/tenants').set(AUTH).send({ name: 'Swapped' });
      T = `/v1/tenants/${(tenant.body as { tenantId: string }).tenantId}`;
    }
    for (let index = 0; index < count; index++)
      expect(
        (
          await request(app.server)
            .post(`${T}/workspaces`)
            .set(AUTH)
            .send({ name: `Workspace ${randomUUID()}` })
        ).status,
      ).toBe(201);
    return T;
  };

  const caughtUpTo = async (position: string | undefined) =>
    waitFor(async () => {
      const { rows } = await database.pool.query<{ position: string }>(
        'SELECT position FROM read_model.checkpoints',
      );
      return rows.length === 3 && rows.every((row) => row.position === position);
    }, 10_000);

  /**
   * Verify run against the database while the swap of `swapped`'s tables is held open on `swap`,
   * committed once verify waits on it. Resolves with verify's exit code and JSON report.
   */
  const verifyAcrossSwap = async (
    store: EventStore,
    swap: pg.PoolClient,
    swapped: string,
    afterSwap: () => Promise<unknown> = async () => undefined,
  ) => {
    // The swap as a replay makes it: the tables locked and renamed, the checkpoints replaced (row
    // by row: they stay readable meanwhile, so only verify's reading of the tables waits on it).
    const tables = COMPARED_TABLES.map((table) => `read_model.${table}`).join(', ');
    await swap.query(
      `BEGIN; LOCK TABLE ${tables} IN ACCESS EXCLUSIVE MODE; CREATE SCHEMA read_model_retired`,
    );
    for (const table of COMPARED_TABLES)
      await swap.query(
        `ALTER TABLE read_model.${table} SET SCHEMA read_model_retired; ALTER TABLE ${swapped}.${table} SET SCHEMA read_model`,
      );
    await swap.query(
      `DELETE FROM read_model.checkpoints; INSERT INTO read_model.checkpoints (projection, position, updated_at) SELECT projection, position, now() FROM ${swapped}.checkpoints`,
    );
    const stdout = capture();
    const stderr = capture();
    const verify = runTenancyCli(['verify', '--json'], {
      stdin: new PassThrough(),
      stdout,
      stderr,
      openEventStore: async () => ({ eventStore: store, pool: database.pool, close: async () => undefined }),
    });
    await waitFor(async () => {
      const { rowCount } = await database.pool.query(
        `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE NOT l.granted AND n.nspname = 'read_model'`,
      );
      return rowCount !== 0;
    }, 30_000);
    await swap.query('COMMIT; DROP SCHEMA read_model_retired CASCADE');
    await afterSwap();
    const code = await verify;
    const report = (stdout.text() === '' ? { positions: {}, tables: [] } : JSON.parse(stdout.text())) as {
      positions: Record<string, string>;
      tables: { table: string; onlyLeft: number; onlyRight: number }[];
    };
    return {
      code,
      failures: stderr
        .text()
        .split('\n')
        .filter((line) => line.startsWith('tenancy verify:')),
      differences: report.tables.filter((table) => table.onlyLeft !== 0 || table.onlyRight !== 0),
      positions: [...new Set(Object.values(report.positions))],
    };
  };

  it('compares the swapped-in tables at their own checkpoints, not the ones before the swap', async () => {
    // Live read models at one point of the log, then more events they have not applied (no
    // projector runs), and a rebuilt copy that has: what a replay is about to swap in.
    const projecting = await startTestAppOn(database);
    const T = await writeWorkspaces(projecting, 5);
    await caughtUpTo(await projecting.runtime.eventStore.headPosition());
    await projecting.close();
    const writing = await startTestAppOn(database, { runConsumers: false });
    const client = await database.pool.connect();
    const swap = await database.pool.connect();
    try {
      await writeWorkspaces(writing, 5, T);
      await rebuildReadModels({ store: writing.runtime.eventStore, client, schema: 'read_model_swapped' });
      expect(await verifyAcrossSwap(writing.runtime.eventStore, swap, 'read_model_swapped')).toEqual({
        code: 0,
        failures: [],
        differences: [],
        positions: [await writing.runtime.eventStore.headPosition()],
      });
    } finally {
      await swap.query('ROLLBACK').catch(() => undefined);
      swap.release();
      await dropReadModelSchema(client, 'read_model_swapped');
      client.release();
      await writing.close();
    }
  }, 60_000);

  it('waits for the live read models to get past its scratch copy again when a swap moved them back', async () => {
    // Rebuilt up to an earlier point than the live read models: swapped in, the projector goes
    // back there and applies the rest again.
    const app = await startTestAppOn(database);
    const client = await database.pool.connect();
    const swap = await database.pool.connect();
    try {
      const T = await writeWorkspaces(app, 10);
      await caughtUpTo(await app.runtime.eventStore.headPosition());
      const { events } = await app.runtime.eventStore.readAll({ maxCount: 3 });
      await rebuildReadModels({
        store: app.runtime.eventStore,
        client,
        schema: 'read_model_earlier',
        until: events[2]!.position,
      });
      // The next write makes the projector find its checkpoint moved, and go back to it.
      const outcome = await verifyAcrossSwap(app.runtime.eventStore, swap, 'read_model_earlier', () =>
        writeWorkspaces(app, 1, T),
      );
      expect(outcome).toEqual({
        code: 0,
        failures: [],
        differences: [],
        positions: [await app.runtime.eventStore.headPosition()],
      });
    } finally {
      await swap.query('ROLLBACK').catch(() => undefined);
      swap.release();
      await dropReadModelSchema(client, 'read_model_earlier');
      client.release();
      await app.close();
    }
  }, 60_000);
});

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { PG_MIGRATE_LOCK_ID } from 'node-pg-migrate';
import { call } from '../support/service-process.js';
import { cliSaid, runTenancyProcess } from '../support/tenancy-process.js';
import { waitFor } from '../support/wait-for.js';
import { useServiceWithTenant } from './fault-kit.js';
import { startWriteLoad, statusCounts } from './write-load.js';

/**
 * Connections the service holds are cut by the database (pg_terminate_backend, as an administrator,
 * a failover or a connection limit would): the service as a process must carry on by itself.
 */
describe('terminated database connections', () => {
  const env = useServiceWithTenant('Faults');

  const terminate = async (where: string, parameters: unknown[] = []): Promise<number> => {
    const { rows } = await env.database.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND ${where}`,
      parameters,
    );
    for (const { pid } of rows) await env.database.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    return rows.length;
  };

  const readiness = async (): Promise<number> => (await call(env.service, 'GET', '/health/ready')).status;

  it("the projector's connection cut: the next workspace still reaches the read model, readiness stays 200", async () => {
    expect(await terminate(`application_name = 'consumer:tenancy-read-model'`)).toBe(1);
    const workspaceId = randomUUID();
    const created = await call(env.service, 'POST', `/v1/tenants/${env.tenantId}/workspaces`, {
      workspaceId,
      name: 'after the cut',
    });
    expect(created.status).toBe(201);
    const read = await call(
      env.service,
      'GET',
      `/v1/tenants/${env.tenantId}/workspaces/${workspaceId}`,
      undefined,
      {
        'Min-Position': String(created.body.position),
      },
    );
    expect(read.status).toBe(200);
    await waitFor(async () => (await readiness()) === 200, 5_000);
  }, 30_000);

  it('every connection cut under write load: only 201 or 503, writes and read models recover within 5 s, nothing acknowledged is lost, verify is clean', async () => {
    const load = startWriteLoad(env.service, env.tenantId, 8);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const cutAt = Date.now();
    expect(await terminate('true')).toBeGreaterThan(3);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const outcomes = await load.stop();

    // Only "done" or "retry later": never a 500, never a connection reset.
    const counts = statusCounts(outcomes);
    expect(Object.keys(counts).sort()).toEqual(expect.arrayContaining(['201']));
    expect(Object.keys(counts).filter((status) => status !== '201' && status !== '503')).toEqual([]);
    // Writes recovered by themselves: a 201 answered after the cut, well within 5 s.
    const firstAfter = outcomes.find((outcome) => outcome.at > cutAt && outcome.status === 201);
    expect(firstAfter).toBeDefined();
    expect(firstAfter!.at - cutAt).toBeLessThan(5_000);

    // The read models recovered too: a fresh write is readable with its position, readiness is back.
    const probeId = randomUUID();
    const probe = await call(env.service, 'POST', `/v1/tenants/${env.tenantId}/workspaces`, {
      workspaceId: probeId,
      name: 'probe',
    });
    expect(probe.status).toBe(201);
    const read = await call(
      env.service,
      'GET',
      `/v1/tenants/${env.tenantId}/workspaces/${probeId}`,
      undefined,
      {
        'Min-Position': String(probe.body.position),
      },
    );
    expect(read.status).toBe(200);
    await waitFor(async () => (await readiness()) === 200, 5_000);
    expect(Date.now() - cutAt).toBeLessThan(3_000 + 5_000 + 2_000);

    // Every acknowledged workspace is in the log exactly once and in the read model.
    const acknowledged = outcomes
      .filter((outcome) => outcome.status === 201)
      .map((outcome) => outcome.workspaceId);
    const { rows } = await env.database.pool.query<{ id: string; events: number; rows: number }>(
      `SELECT a.id,
              (SELECT count(*)::int FROM events e WHERE e.event_type = 'WorkspaceCreated' AND e.data->>'workspaceId' = a.id) AS events,
              (SELECT count(*)::int FROM read_model.workspaces w WHERE w.workspace_id = a.id::uuid) AS rows
       FROM unnest($1::text[]) AS a(id)`,
      [acknowledged],
    );
    expect(rows.filter((row) => row.events !== 1 || row.rows !== 1)).toEqual([]);

    const verify = await runTenancyProcess(['verify'], env.database.url);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/read models match the event log/);
  }, 60_000);

  it("a read's connection cut while the read waits (behind a lock): 503, and the service goes on", async () => {
    // A table lock held by another session keeps the read's statement waiting on its connection,
    // which the service has checked out of its pool, as a long read would.
    const holder = await env.database.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE read_model.workspaces IN ACCESS EXCLUSIVE MODE');
      const read = call(env.service, 'GET', `/v1/tenants/${env.tenantId}/workspaces`);
      await waitFor(
        async () => (await terminate(`application_name = 'tenancy' AND wait_event_type = 'Lock'`)) > 0,
        5_000,
      );
      expect((await read).status).toBe(503);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    // Before: the cut connection's error, emitted with no one listening, ended the process.
    expect(env.service.child.exitCode).toBeNull();
    const again = await call(env.service, 'GET', `/v1/tenants/${env.tenantId}/workspaces`);
    expect(again.status).toBe(200);
  }, 30_000);

  it("verify's connection cut while its comparison waits: exit 1, saying what the server said", async () => {
    const holder = await env.database.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE read_model.workspaces IN ACCESS EXCLUSIVE MODE');
      const verifying = runTenancyProcess(['verify'], env.database.url);
      await waitFor(
        async () =>
          (await terminate(
            `wait_event_type = 'Lock' AND query LIKE 'BEGIN ISOLATION LEVEL REPEATABLE READ%'`,
          )) > 0,
        10_000,
      );
      const verify = await verifying;
      // Before: the clean-up after the failure, on the same cut connection, failed too, and its
      // error ("Client has encountered a connection error and is not queryable") was the one shown.
      expect({
        code: verify.code,
        said: cliSaid(verify),
      }).toEqual({
        code: 1,
        said: ['tenancy verify: terminating connection due to administrator command'],
      });
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  }, 30_000);

  it('a CLI run whose migration session is cut while it waits for the migration lock: exit 1, one line saying why', async () => {
    const holder = await env.database.pool.connect();
    try {
      // The lock another instance holds while it migrates (node-pg-migrate's).
      await holder.query(`SELECT pg_advisory_lock(${PG_MIGRATE_LOCK_ID})`);
      const replaying = runTenancyProcess(['replay'], env.database.url);
      await waitFor(
        async () =>
          (await terminate(
            `wait_event_type = 'Lock' AND query LIKE '%pg_advisory_lock(${PG_MIGRATE_LOCK_ID})%'`,
          )) > 0,
        10_000,
      );
      const replay = await replaying;
      // Before: the cut session's error event, with no one listening, ended the process with a stack trace.
      expect({ code: replay.code, stderr: replay.stderr }).toEqual({
        code: 1,
        stderr: 'tenancy replay: terminating connection due to administrator command\n',
      });
    } finally {
      await holder.query('SELECT pg_advisory_unlock_all()');
      holder.release();
    }
  }, 30_000);

  it("a tenant's creation cut after its name was claimed: the 503's retry (same request, no tenantId) creates the tenant instead of 409 TENANT_NAME_TAKEN", async () => {
    const name = `Cut after the claim ${randomUUID()}`;
    // The TenantCreated append waits until its connection is cut, as if it had hit a dead one; the
    // name's reservation, appended just before on another connection, is committed.
    await env.database.pool.query(`CREATE FUNCTION creation_held() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.event_type = 'TenantCreated' AND NEW.data->>'name' = '${name}' THEN PERFORM pg_sleep(10); END IF;
      RETURN NEW; END $$`);
    await env.database.pool.query(
      'CREATE TRIGGER creation_held BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION creation_held()',
    );
    try {
      const first = call(env.service, 'POST', '/v1/tenants', { name });
      await waitFor(async () => (await terminate(`wait_event = 'PgSleep'`)) > 0, 5_000);
      expect((await first).status).toBe(503);
    } finally {
      await env.database.pool.query('DROP TRIGGER creation_held ON events');
    }
    const retried = await call(env.service, 'POST', '/v1/tenants', { name });
    expect({ status: retried.status, code: retried.body.code }).toEqual({ status: 201, code: undefined });
  }, 30_000);
});

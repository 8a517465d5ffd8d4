import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.server.js';
import { call, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait-for.js';
import { isAlive, postmaster, scratchDir, startOnEmbeddedPostgres, useCleanups } from './fault-kit.js';
import { startWriteLoad, statusCounts, type WriteOutcome } from './write-load.js';

/** PostgreSQL goes away under load and comes back; the service carries on without a restart. */
describe('the database restarting under load', () => {
  const cleanup = useCleanups();

  const createTenant = async (service: ServiceProcess): Promise<string> => {
    const created = await call(service, 'POST', '/v1/tenants', { name: `Restart ${randomUUID()}` });
    expect(created.status).toBe(201);
    return String(created.body.tenantId);
  };

  /** Every 201 is in the log exactly once and, once the projector caught up, in the read model. */
  const expectAcknowledgedKept = async (url: string, outcomes: readonly WriteOutcome[]): Promise<void> => {
    const acknowledged = outcomes
      .filter((outcome) => outcome.status === 201)
      .map((outcome) => outcome.workspaceId);
    expect(acknowledged.length).toBeGreaterThan(0);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await waitFor(async () => {
        const { rows } = await client.query<{ missing: number }>(
          `SELECT count(*)::int AS missing FROM unnest($1::uuid[]) AS a(id)
           WHERE NOT EXISTS (SELECT 1 FROM read_model.workspaces w WHERE w.workspace_id = a.id)`,
          [acknowledged],
        );
        return rows[0]?.missing === 0;
      }, 10_000);
      const { rows } = await client.query<{ id: string; events: number }>(
        `SELECT a.id, (SELECT count(*)::int FROM events e
                       WHERE e.event_type = 'WorkspaceCreated' AND e.data->>'workspaceId' = a.id) AS events
         FROM unnest($1::text[]) AS a(id)`,
        [acknowledged],
      );
      expect(rows.filter((row) => row.events !== 1)).toEqual([]);
    } finally {
      await client.end();
    }
  };

  /** Two services on one embedded data directory: the first runs the server, the second shares it. */
  const twoServicesOnOneEmbeddedPostgres = async () => {
    const { dataDir, env, service: first } = await startOnEmbeddedPostgres(cleanup);
    const second = await startServiceProcess({ env });
    cleanup(() => second.stop());
    return { dataDir, env, first, second };
  };

  const onlyDoneOrRetryLater = (outcomes: readonly WriteOutcome[]): void => {
    const counts = statusCounts(outcomes);
    expect(Object.keys(counts).filter((status) => status !== '201' && status !== '503')).toEqual([]);
  };

  it('the embedded server killed (kill -9): the service starts it again and answers only 201 or 503 meanwhile', async () => {
    const { dataDir, service } = await startOnEmbeddedPostgres(cleanup);
    const tenantId = await createTenant(service);
    const load = startWriteLoad(service, tenantId, 8);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const killed = postmaster(dataDir);
    const killedAt = Date.now();
    process.kill(killed.pid, 'SIGKILL');
    await waitFor(async () => {
      try {
        const again = postmaster(dataDir);
        return again.pid !== killed.pid && isAlive(again.pid);
      } catch {
        return false;
      }
    }, 15_000);
    await waitFor(async () => (await call(service, 'GET', '/health/ready')).status === 200, 15_000);
    const recoveredAfter = Date.now() - killedAt;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const outcomes = await load.stop();
    onlyDoneOrRetryLater(outcomes);
    expect(outcomes.some((outcome) => outcome.at > killedAt + recoveredAfter && outcome.status === 201)).toBe(
      true,
    );
    expect(postmaster(dataDir).port).toBe(killed.port);
    await expectAcknowledgedKept(`postgres://postgres:postgres@127.0.0.1:${killed.port}/tenancy`, outcomes);
    expect(service.output()).toMatch(/PostgreSQL exited .*starting it again/);

    // And it is still the service's: stopping the service stops the server it started again.
    const restartedPid = postmaster(dataDir).pid;
    expect(await service.stop()).toBe(0);
    expect(isAlive(restartedPid)).toBe(false);
  }, 120_000);

  it('an embedded server left behind by a killed service is adopted by the next one, which stops it when it stops', async () => {
    const { dataDir, env, service: first } = await startOnEmbeddedPostgres(cleanup);
    const created = await call(first, 'POST', '/v1/tenants', { name: `Adopted ${randomUUID()}` });
    expect(created.status).toBe(201);
    const orphan = postmaster(dataDir);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(isAlive(orphan.pid)).toBe(true);

    const second = await startServiceProcess({ env });
    cleanup(() => second.stop());
    expect(second.output()).toMatch(/adopting the PostgreSQL left running/);
    expect(postmaster(dataDir).pid).toBe(orphan.pid);
    // Killed at once after the write: the tenant reaches the read model through the next instance.
    const read = await call(second, 'GET', `/v1/tenants/${String(created.body.tenantId)}`, undefined, {
      'Min-Position': String(created.body.position),
    });
    expect(read.status).toBe(200);
    expect(await second.stop()).toBe(0);
    expect(isAlive(orphan.pid)).toBe(false);
  }, 120_000);

  it('a second service sharing the embedded server takes it over when the first stops: only 201 or 503, then it stops the server itself', async () => {
    const { dataDir, first, second } = await twoServicesOnOneEmbeddedPostgres();
    expect(second.output()).toMatch(/runs it already/);
    const shared = postmaster(dataDir);
    const tenantId = await createTenant(second);
    const load = startWriteLoad(second, tenantId, 4);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The first one's graceful stop stops the server it started, with the second still on it.
    const stoppedAt = Date.now();
    expect(await first.stop()).toBe(0);
    expect(isAlive(shared.pid)).toBe(false);
    await waitFor(async () => (await call(second, 'GET', '/health/ready')).status === 200, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const outcomes = await load.stop();
    onlyDoneOrRetryLater(outcomes);
    expect(outcomes.some((outcome) => outcome.at > stoppedAt && outcome.status === 201)).toBe(true);
    const taken = postmaster(dataDir);
    expect(taken.port).toBe(shared.port);
    await expectAcknowledgedKept(`postgres://postgres:postgres@127.0.0.1:${taken.port}/tenancy`, outcomes);
    expect(second.output()).toMatch(/takes it over/);
    expect(await second.stop()).toBe(0);
    expect(isAlive(taken.pid)).toBe(false);
  }, 120_000);

  it('a second service sharing the embedded server adopts it when the first is killed (kill -9), and stops it when it stops', async () => {
    const { dataDir, first, second } = await twoServicesOnOneEmbeddedPostgres();
    const shared = postmaster(dataDir);
    first.child.kill('SIGKILL');
    await first.exited;
    await waitFor(async () => /takes it over/.test(second.output()), 10_000);
    expect(isAlive(shared.pid)).toBe(true);
    expect((await call(second, 'POST', '/v1/tenants', { name: `Kept ${randomUUID()}` })).status).toBe(201);
    expect(await second.stop()).toBe(0);
    expect(isAlive(shared.pid)).toBe(false);
  }, 120_000);

  /**
   * The first of two services on one embedded server is restarted (stopped, then started again)
   * while the second is frozen: so the second cannot take the server over when the first stops,
   * and the restarted service claims it instead, as it would were it quicker than the second's
   * next look. `meanwhile` runs once the first has stopped, before the restart.
   */
  const restartWhileSecondFrozen = async (meanwhile: (port: number) => Promise<void> = async () => {}) => {
    const { dataDir, env, first, second } = await twoServicesOnOneEmbeddedPostgres();
    const shared = postmaster(dataDir);
    second.child.kill('SIGSTOP');
    let restarted: ServiceProcess;
    try {
      expect(await first.stop()).toBe(0);
      expect(isAlive(shared.pid)).toBe(false);
      await meanwhile(shared.port);
      restarted = await startServiceProcess({ env });
      cleanup(() => restarted.stop());
    } finally {
      second.child.kill('SIGCONT');
    }
    return { dataDir, shared, second, restarted };
  };

  it('a service restarted while a second one shares its embedded server: the new one starts it on the port the second one names', async () => {
    const { dataDir, shared, second, restarted } = await restartWhileSecondFrozen();
    await waitFor(async () => (await call(second, 'GET', '/health/ready')).status === 200, 15_000);
    const server = postmaster(dataDir);
    expect(server.port).toBe(shared.port);
    expect((await call(second, 'POST', '/v1/tenants', { name: `Shared on ${randomUUID()}` })).status).toBe(
      201,
    );
    expect(second.output()).not.toMatch(/takes it over/);
    expect(await second.stop()).toBe(0);
    expect(isAlive(server.pid)).toBe(true);
    expect(await restarted.stop()).toBe(0);
    expect(isAlive(server.pid)).toBe(false);
  }, 120_000);

  it('the same, with that port taken meanwhile: the server starts on another, and the second one says it must be restarted', async () => {
    // Another program on the port: it hangs up on every connection.
    const squatter = createServer((socket) => socket.destroy());
    cleanup(() => new Promise((resolve) => squatter.close(resolve)));
    const { dataDir, shared, second } = await restartWhileSecondFrozen(
      (port) => new Promise((resolve) => squatter.listen(port, '127.0.0.1', () => resolve())),
    );
    const server = postmaster(dataDir);
    expect(server.port).not.toBe(shared.port);
    await waitFor(async () => /still connects to port \d+; restart it/.test(second.output()), 10_000);
    expect(second.output()).toContain(
      `again, on port ${server.port}: this process still connects to port ${shared.port}`,
    );
    expect((await call(second, 'GET', '/health/ready')).status).toBe(503);
  }, 120_000);

  it('two services sharing the embedded server when its owner stops: one of them takes it over, the other shares it on', async () => {
    const { dataDir, env, service: first } = await startOnEmbeddedPostgres(cleanup);
    const sharers = await Promise.all([startServiceProcess({ env }), startServiceProcess({ env })]);
    for (const sharer of sharers) cleanup(() => sharer.stop());
    expect(await first.stop()).toBe(0);
    for (const sharer of sharers) {
      await waitFor(async () => (await call(sharer, 'GET', '/health/ready')).status === 200, 30_000);
    }
    const takers = sharers.filter((sharer) => /takes it over/.test(sharer.output()));
    expect(takers).toHaveLength(1);
    const server = postmaster(dataDir);
    const [taker] = takers;
    const other = sharers.find((sharer) => sharer !== taker)!;
    // The other one's stop leaves the server to the one that took it over; that one's stops it.
    expect(await other.stop()).toBe(0);
    expect(isAlive(server.pid)).toBe(true);
    expect((await call(taker!, 'POST', '/v1/tenants', { name: `Taken ${randomUUID()}` })).status).toBe(201);
    expect(await taker!.stop()).toBe(0);
    expect(isAlive(server.pid)).toBe(false);
  }, 120_000);

  it('two services started at once on one new embedded data directory: both come up, one runs the server, the other shares it', async () => {
    const dataRoot = scratchDir(cleanup, 'tenancy-fault');
    const env = { DATABASE_URL: '', TENANCY_DATA_DIR: dataRoot };
    const services = await Promise.all([startServiceProcess({ env }), startServiceProcess({ env })]);
    for (const service of services) cleanup(() => service.stop());
    const sharing = services.filter((service) => /runs it already/.test(service.output()));
    expect(sharing).toHaveLength(1);
    const server = postmaster(path.join(dataRoot, 'postgres'));
    for (const service of services) {
      expect((await call(service, 'POST', '/v1/tenants', { name: `At once ${randomUUID()}` })).status).toBe(
        201,
      );
    }
    for (const service of services) expect(await service.stop()).toBe(0);
    expect(isAlive(server.pid)).toBe(false);
  }, 120_000);

  it('an external server restarted at once: only 201 or 503, and the service carries on', async () => {
    const dataDir = path.join(scratchDir(cleanup, 'tenancy-fault'), 'external');
    let server = await startEmbeddedPostgres({ dataDir, persistent: true, stopWithProcess: true });
    cleanup(() => server.stop());
    const port = new URL(server.adminUrl).port;
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE tenancy');
    await admin.end();
    const url = `postgres://postgres:postgres@127.0.0.1:${port}/tenancy`;
    const service = await startServiceProcess({ env: { DATABASE_URL: url } });
    cleanup(() => service.stop());
    const tenantId = await createTenant(service);
    const load = startWriteLoad(service, tenantId, 8);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await server.stop();
    server = await startEmbeddedPostgres({ dataDir, persistent: true, port: Number(port) });
    await waitFor(async () => (await call(service, 'GET', '/health/ready')).status === 200, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const outcomes = await load.stop();
    onlyDoneOrRetryLater(outcomes);
    await expectAcknowledgedKept(url, outcomes);
    expect(await service.stop()).toBe(0);
  }, 120_000);
});

import { describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import { ApiKeyRegistry } from '../../src/application/access/api-key.registry.js';
import { LogHorizonWatch } from '../../src/health/log-horizon.watch.js';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.server.js';
import { withDatabase } from '../../src/database/database-urls.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { call, startServiceProcess } from '../support/service-process.js';
import { AUTH, startTestApp } from '../support/test-app.js';
import { createTestDatabase, testServerUrl } from '../support/test-database.js';
import { writeFlatTenant } from '../support/tenant-trees.js';
import { waitFor } from '../support/wait-for.js';
import { scratchDir, useCleanups } from './fault-kit.js';

/** Readiness says what is wrong, in its body, and notices what silently stalls the log. */
describe('readiness', () => {
  const cleanup = useCleanups();

  it('reports a transaction held open in another database of the cluster within 2 s, names it in the log once, and recovers', async () => {
    const database = await createTestDatabase();
    cleanup(() => database.drop());
    const service = await startServiceProcess({ env: { DATABASE_URL: database.url } });
    cleanup(() => service.stop());

    // A write transaction left open in the `postgres` database of the same server.
    const elsewhere = new pg.Client({ connectionString: withDatabase(testServerUrl(), 'postgres') });
    await elsewhere.connect();
    cleanup(() => elsewhere.end());
    await elsewhere.query('BEGIN');
    await elsewhere.query('SELECT pg_current_xact_id()');
    const { rows } = await elsewhere.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const openedAt = Date.now();

    let body: Record<string, unknown> = {};
    await waitFor(async () => {
      const ready = await call(service, 'GET', '/health/ready');
      body = ready.body;
      return ready.status === 200 && body.status === 'degraded';
    }, 2_000);
    expect(Date.now() - openedAt).toBeLessThan(2_000);
    const details = body.details as Record<string, { status: string; heldBy?: Record<string, unknown> }>;
    expect(details.logHorizon?.status).toBe('degraded');
    expect(details.logHorizon?.heldBy).toMatchObject({ pid: rows[0]?.pid, database: 'postgres' });
    expect(details.database?.status).toBe('up');

    const metrics = await fetch(`${service.baseUrl}/metrics`).then((response) => response.text());
    const held = Number(/^tenancy_log_horizon_held_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(held).toBeGreaterThanOrEqual(1);

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const named = service.output().match(/the log horizon is held back by transaction of pid/g) ?? [];
    expect(named).toHaveLength(1);

    await elsewhere.query('ROLLBACK');
    await waitFor(async () => (await call(service, 'GET', '/health/ready')).body.status === 'ok', 2_000);
  }, 60_000);

  it('reports a log-horizon check that does not answer in time as degraded, not down: late or held, it is the same for every instance', async () => {
    const app = await startTestApp();
    cleanup(() => app.close());
    // The look at pg_stat_activity never answers (a lock on the catalog it reads cannot stand in: it
    // would block every new connection, and so the database check too).
    jest.spyOn(app.app.get(LogHorizonWatch), 'check').mockReturnValue(new Promise(() => undefined));
    const ready = await request(app.server).get('/health/ready');
    const body = ready.body as {
      status: string;
      details: Record<string, { status: string; message?: string }>;
    };
    expect({
      status: ready.status,
      overall: body.status,
      database: body.details.database?.status,
      logHorizon: body.details.logHorizon,
    }).toEqual({
      status: 200,
      overall: 'degraded',
      database: 'up',
      logHorizon: { status: 'degraded', message: 'no answer within 2 s' },
    });
  });

  it('answers 200 while the service catches up on a log it did not write, and says which consumers are still catching up', async () => {
    const database = await createTestDatabase();
    cleanup(() => database.drop());
    const store = new PostgresEventStore(database.pool, database.url);
    cleanup(() => store.close());
    for (let tenant = 0; tenant < 20; tenant++) await writeFlatTenant(store, 2_000);

    const service = await startServiceProcess({ env: { DATABASE_URL: database.url } });
    cleanup(() => service.stop());
    /** Each consumer's entry in the readiness body (beside the check's own status). */
    const consumersOf = (body: Record<string, unknown>) => {
      const { status, ...consumers } = (body.details as { consumers: Record<string, unknown> }).consumers;
      expect(status).toBe('up');
      return consumers as Record<string, { state: string; caughtUp: boolean }>;
    };

    // Commands are decided on the log, so a service behind on its read models is ready all the same.
    const behind = await call(service, 'GET', '/health/ready');
    expect(behind.status).toBe(200);
    expect(consumersOf(behind.body)['tenancy-read-model']).toMatchObject({
      state: 'active',
      caughtUp: false,
    });

    await waitFor(async () => {
      const consumers = consumersOf((await call(service, 'GET', '/health/ready')).body);
      return Object.values(consumers).every((consumer) => consumer.caughtUp);
    }, 60_000);
  }, 120_000);

  it('stays 200 but degraded when a consumer stopped on an event it cannot apply, names the event and the reason, and carries on by itself once the cause is fixed', async () => {
    const app = await startTestApp({ consumerFailedRetryMs: 500 });
    cleanup(() => app.close());
    // Every instance that takes the consumer over stops on the same event: failing readiness would
    // take them all out of the load balancer, writes included.
    await app.database.pool.query('REVOKE INSERT ON read_model.group_members FROM tenancy_projector');
    const http = () => request(app.server);
    const tenant = await http().post('/v1/tenants').set(AUTH).send({ name: 'Poisoned' });
    const T = `/v1/tenants/${(tenant.body as { tenantId: string }).tenantId}`;
    expect((await http().put(`${T}/members/bob`).set(AUTH).send({})).status).toBe(201);
    const group = await http().post(`${T}/groups`).set(AUTH).send({ name: 'Team' });
    const groupId = (group.body as { groupId: string }).groupId;
    expect((await http().put(`${T}/groups/${groupId}/members/bob`).set(AUTH)).status).toBeLessThan(300);

    type Consumers = Record<string, { state?: string; failure?: string } | string>;
    let ready: { status: number; body: { status?: string; details?: { consumers?: Consumers } } } = {
      status: 0,
      body: {},
    };
    await waitFor(async () => {
      const answer = await http().get('/health/ready');
      ready = { status: answer.status, body: answer.body as typeof ready.body };
      const consumer = ready.body.details?.consumers?.['membership-read-model'];
      return typeof consumer === 'object' && consumer.state === 'failed';
    }, 30_000);
    expect({ status: ready.status, verdict: ready.body.status }).toEqual({
      status: 200,
      verdict: 'degraded',
    });
    expect(ready.body.details?.consumers).toMatchObject({
      status: 'degraded',
      'membership-read-model': { failure: expect.stringMatching(/GroupMemberAdded.*permission denied/) },
    });
    // Writes go on meanwhile.
    expect((await http().post(`${T}/workspaces`).set(AUTH).send({ name: 'Still writable' })).status).toBe(
      201,
    );
    expect(ready.body.details?.consumers).toMatchObject({
      status: 'degraded',
      message: expect.stringContaining('tries the event again every 0.5 s'),
    });
    // What an alert watches: this instance's consumer is stopped, the others are not.
    const stopped = async () =>
      Object.fromEntries(
        [
          ...(await http().get('/metrics')).text.matchAll(
            /^tenancy_consumer_stopped\{consumer="([^"]+)"\} (\S+)$/gm,
          ),
        ].map(([, consumer, value]) => [consumer, Number(value)]),
      );
    expect(await stopped()).toMatchObject({ 'membership-read-model': 1, 'tenancy-read-model': 0 });

    // The grant put back: no restart needed. The event it stopped on is applied, not skipped.
    await app.database.pool.query('GRANT INSERT ON read_model.group_members TO tenancy_projector');
    await waitFor(async () => {
      const answer = await http().get('/health/ready');
      const consumers = (answer.body as typeof ready.body).details?.consumers;
      return consumers?.status === 'up';
    }, 30_000);
    const consumers = ((await http().get('/health/ready')).body as typeof ready.body).details?.consumers;
    expect(consumers?.['membership-read-model']).toMatchObject({ state: 'active' });
    expect(consumers?.['membership-read-model']).not.toHaveProperty('failure');
    expect((await http().get(`${T}/groups/${groupId}/members/bob`).set(AUTH)).status).toBe(200);
    expect(await stopped()).toMatchObject({ 'membership-read-model': 0, 'tenancy-read-model': 0 });
  }, 60_000);

  it('answers 503 with the failed check and its reason in the body when the database is away, without stack traces in the log', async () => {
    const dataDir = scratchDir(cleanup, 'tenancy-ready');
    let server = await startEmbeddedPostgres({ dataDir, persistent: true });
    cleanup(() => server.stop());
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE tenancy');
    await admin.end();
    const port = Number(new URL(server.adminUrl).port);
    const service = await startServiceProcess({
      env: { DATABASE_URL: withDatabase(server.adminUrl, 'tenancy') },
    });
    cleanup(() => service.stop());

    await server.stop();
    const logBefore = service.output().length;
    let ready = await call(service, 'GET', '/health/ready');
    for (let probe = 0; probe < 3; probe++) ready = await call(service, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe('error');
    const failed = ready.body.error as Record<string, { status: string; message?: string }>;
    expect(failed.database?.status).toBe('down');
    expect(failed.database?.message).toEqual(expect.any(String));
    expect(ready.body.details).toHaveProperty('consumers');
    expect(service.output().slice(logBefore)).not.toMatch(/\n\s+at /);

    server = await startEmbeddedPostgres({ dataDir, persistent: true, port });
    await waitFor(async () => (await call(service, 'GET', '/health/ready')).status === 200, 10_000);
  }, 60_000);
  it('answers 503 while the instance is still loading API keys (every tenant key would get 503 KEYS_LOADING), and says so', async () => {
    const app = await startTestApp({ runConsumers: false });
    cleanup(() => app.close());
    const registry = app.app.get(ApiKeyRegistry);
    await registry.whenReady();
    const loading = jest.spyOn(registry, 'isReady').mockReturnValue(false);
    const keyed = await request(app.server).get('/v1/tenants').set('Authorization', 'Bearer tnc_any');
    expect([keyed.status, (keyed.body as { code?: string }).code]).toEqual([503, 'KEYS_LOADING']);
    const ready = await request(app.server).get('/health/ready');
    expect(ready.status).toBe(503);
    expect((ready.body as { error: Record<string, { status: string }> }).error.apiKeys).toMatchObject({
      status: 'down',
    });
    loading.mockRestore();
    const loaded = await request(app.server).get('/health/ready');
    expect(loaded.status).toBe(200);
    expect((loaded.body as { details: Record<string, { status: string }> }).details.apiKeys).toMatchObject({
      status: 'up',
    });
  });

  it('on an instance that runs no consumers, says so instead of reporting them up with nothing to show', async () => {
    const app = await startTestApp({ runConsumers: false });
    cleanup(() => app.close());
    await app.app.get(ApiKeyRegistry).whenReady();
    const ready = await request(app.server).get('/health/ready');
    expect(ready.status).toBe(200);
    expect((ready.body as { details: Record<string, unknown> }).details.consumers).toEqual({
      status: 'up',
      runHere: false,
      message:
        'TENANCY_RUN_CONSUMERS=false: this instance runs no projections or process managers; tenancy_consumer_lag_seconds says how far those running elsewhere are',
    });
  });
});

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createLogger } from '../../src/observability/logger.js';
import { CURRENT_SCHEMA_VERSION } from '../../src/tenancy/tenancy.events.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { capture } from '../support/capture.js';
import { createTestDatabase } from '../support/test-database.js';
import { cliSaid, runTenancyProcess } from '../support/tenancy-process.js';
import { AUTH, startTestApp, startTestAppOn, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { openEventStream, type EventStreamClient } from './sse-client.js';

interface FeedItem {
  position: string;
  streamName: string;
  revision: number;
  type: string;
}

/**
 * While two versions run side by side (a rolling deployment), or after a rollback, the log holds
 * events the older version cannot read: a type it does not know, or a known type in a newer schema
 * version. The older version must neither guess nor skip them, and must not answer 500: what it
 * can serve it serves, and the rest is a 503 a client retries (an upgraded instance can serve it).
 */
describe('events written by a newer version', () => {
  let app: TestApp;
  const logs = capture();
  const http = () => request(app.server);
  const streams: EventStreamClient[] = [];
  const metadata = (schemaVersion: number) => ({
    correlationId: randomUUID(),
    causationId: randomUUID(),
    actor: 'operator',
    occurredAt: new Date().toISOString(),
    schemaVersion,
  });
  const createTenant = async () => {
    const tenantId = randomUUID();
    const response = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .send({ tenantId, name: `Newer ${tenantId}` });
    expect(response.status).toBe(201);
    return tenantId;
  };
  const revisionOf = async (tenantId: string) =>
    (
      await app.database.pool.query<{ revision: string }>(
        'SELECT revision FROM event_streams WHERE stream_name = $1',
        [tenantStreamName(tenantId)],
      )
    ).rows[0]?.revision;
  const expectNewerEventProblem = (response: request.Response) => {
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(response.body).toMatchObject({ status: 503, code: 'EVENT_FROM_NEWER_VERSION' });
    expect(response.body.detail).toContain('TenantLabelAdded');
  };

  let earlier: string;
  let unknownOne: string;
  let newerShape: string;
  let later: string;

  beforeAll(async () => {
    app = await startTestApp({ runConsumers: false }, createLogger('warn', logs));
    await app.app.listen(0, '127.0.0.1');
    earlier = await createTenant();
    unknownOne = await createTenant();
    // As a newer version appends them: a type this version does not know...
    await app.runtime.eventStore.appendToStream(
      tenantStreamName(unknownOne),
      [
        {
          type: 'TenantLabelAdded',
          data: { tenantId: unknownOne, label: 'gold' },
          metadata: metadata(CURRENT_SCHEMA_VERSION),
        },
      ],
      'stream_exists',
    );
    // ...and a type it knows, in a shape of a later schema version.
    newerShape = await createTenant();
    await app.runtime.eventStore.appendToStream(
      tenantStreamName(newerShape),
      [
        {
          type: 'TenantRenamed',
          data: { tenantId: newerShape, name: 'Renamed later', label: 'gold' },
          metadata: metadata(CURRENT_SCHEMA_VERSION + 1),
        },
      ],
      'stream_exists',
    );
    later = await createTenant();
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await app.close();
  });

  it('a command on a stream holding one answers 503 with a stable code and appends nothing', async () => {
    for (const tenantId of [unknownOne, newerShape]) {
      const before = await revisionOf(tenantId);
      const response = await http()
        .patch(`/v1/tenants/${tenantId}`)
        .set(AUTH)
        .send({ name: `Again ${tenantId}` });
      expect(response.status).toBe(503);
      expect(response.body.code).toBe('EVENT_FROM_NEWER_VERSION');
      expect(await revisionOf(tenantId)).toBe(before);
    }
    const patched = await http()
      .patch(`/v1/tenants/${later}`)
      .set(AUTH)
      .send({ name: `Later ${later}` });
    expect(patched.status).toBe(200);
  });

  it('the feed serves every event before it, then answers 503 at it, never skipping it', async () => {
    const first = await http().get('/v1/events').query({ limit: 1000 }).set(AUTH);
    expect(first.status).toBe(200);
    const items = first.body.items as FeedItem[];
    expect(items.some((item) => item.streamName === tenantStreamName(earlier))).toBe(true);
    expect(items.map((item) => item.streamName)).not.toContain(tenantStreamName(later));
    const last = items[items.length - 1];
    expect(last).toMatchObject({ streamName: tenantStreamName(unknownOne), type: 'TenantCreated' });
    expect(first.body.next).toBe(last?.position);

    const at = await http().get('/v1/events').query({ after: first.body.next, limit: 1000 }).set(AUTH);
    expectNewerEventProblem(at);
  });

  it("a tenant's history serves its events up to it, then answers 503", async () => {
    const first = await http().get(`/v1/tenants/${unknownOne}/events`).query({ limit: 100 }).set(AUTH);
    expect(first.status).toBe(200);
    expect((first.body.items as FeedItem[]).map((item) => item.type)).toEqual(['TenantCreated']);
    expect(first.body.next).toBe(0);
    const at = await http()
      .get(`/v1/tenants/${unknownOne}/events`)
      .query({ after: first.body.next })
      .set(AUTH);
    expectNewerEventProblem(at);
    // Another tenant's history is not held up.
    const other = await http().get(`/v1/tenants/${later}/events`).set(AUTH);
    expect(other.status).toBe(200);
  });

  it('a live stream delivers every event before it', async () => {
    const stream = openEventStream(app.server, '/v1/events/stream?from=start', AUTH);
    streams.push(stream);
    expect(await stream.status).toBe(200);
    const before = (await http().get('/v1/events').query({ limit: 1000 }).set(AUTH)).body.items as FeedItem[];
    await stream.waitForEvents(before.length, 5_000);
    expect(stream.events.map((event) => event.id)).toEqual(before.map((item) => item.position));
  });

  it('streams that end at it, as their clients reconnect, are logged once every few seconds, not once each', async () => {
    const ended = () =>
      logs
        .text()
        .split('\n')
        .filter((line) => line.includes('event stream ended at an event this version cannot read')).length;
    const before = ended();
    for (let i = 0; i < 3; i++) {
      const stream = openEventStream(app.server, '/v1/events/stream?from=start', AUTH);
      streams.push(stream);
      await stream.closed;
    }
    expect(ended() - before).toBeLessThanOrEqual(1);
  });

  it("the operator's commands that publish events exit 1 and say a newer version wrote it", async () => {
    for (const args of [
      ['history', '--tenant', unknownOne],
      ['export', '--tenant', unknownOne],
    ]) {
      const run = await runTenancyProcess(args, app.database.url);
      expect(run.code).toBe(1);
      expect(cliSaid(run).join('\n')).toContain('unknown event type TenantLabelAdded');
      expect(run.stderr).toContain('a newer version of the service wrote it');
    }
  });

  it("import of a newer version's export exits 1 before writing, and says a newer version wrote it", async () => {
    const exported = await runTenancyProcess(['export', '--tenant', earlier], app.database.url);
    expect(exported.code).toBe(0);
    const lines = exported.stdout.split('\n').filter((line) => line.startsWith('{"position"'));
    const last = JSON.parse(lines[lines.length - 1] as string) as FeedItem & Record<string, unknown>;
    // The next event of the stream, of a type only a newer version writes.
    const newer = {
      ...last,
      position: `${last.position.slice(0, 17)}${'f'.repeat(16)}`,
      revision: last.revision + 1,
      id: randomUUID(),
      type: 'TenantLabelAdded',
      data: { tenantId: earlier, label: 'gold' },
    };
    const directory = await mkdtemp(path.join(os.tmpdir(), 'tenancy-newer-'));
    const file = path.join(directory, 'newer.ndjson');
    await writeFile(file, [...lines, JSON.stringify(newer)].map((line) => `${line}\n`).join(''));
    const target = await createTestDatabase();
    try {
      const run = await runTenancyProcess(['import', file, '--without-end-line'], target.url);
      expect(run.code).toBe(1);
      expect(cliSaid(run).join('\n')).toContain('unknown event type TenantLabelAdded');
      expect(run.stderr).toContain('a newer version of the service wrote it');
      const { rows } = await target.pool.query<{ count: number }>(
        'SELECT count(*)::int AS count FROM events',
      );
      expect(rows[0]?.count).toBe(0);
    } finally {
      await target.drop();
      await rm(directory, { recursive: true, force: true });
    }
  });

  // Last of this app: its key registry stays where it stopped.
  it('an API key event it cannot read makes it refuse tenant keys (503) until upgraded, never trust a stale key list', async () => {
    const tenantId = await createTenant();
    const issued = await http().post(`/v1/tenants/${tenantId}/api-keys`).set(AUTH).send({ role: 'admin' });
    expect(issued.status).toBe(201);
    const key = { Authorization: `Bearer ${issued.body.secret as string}` };
    expect((await http().get('/v1/events').query({ tenantId }).set(key)).status).toBe(200);
    const stream = openEventStream(app.server, `/v1/events/stream?tenantId=${tenantId}`, key);
    streams.push(stream);
    expect(await stream.status).toBe(200);
    // A key event in a newer shape: whether it revokes this key, or another, cannot be told here.
    const other = await createTenant();
    await app.runtime.eventStore.appendToStream(
      tenantStreamName(other),
      [
        {
          type: 'ApiKeyRevoked',
          data: { tenantId: other, apiKeyId: randomUUID(), reason: 'rotated' },
          metadata: metadata(CURRENT_SCHEMA_VERSION + 1),
        },
      ],
      'stream_exists',
    );
    await waitFor(
      async () => (await http().get('/v1/events').query({ tenantId }).set(key)).status !== 200,
      5_000,
    );
    const refused = await http().get('/v1/events').query({ tenantId }).set(key);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.body.code).toBe('EVENT_FROM_NEWER_VERSION');
    // A stream the key opened before ends too.
    await stream.closed;
    // Nothing of the other tenant's event is told to this key's holder.
    expect(refused.body.detail).not.toContain(other);
    expect(refused.body.detail).not.toContain('rotated');
    const ready = await http().get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details.apiKeys).toMatchObject({ status: 'degraded' });
    expect(ready.body.details.apiKeys.message).toContain('ApiKeyRevoked');
    // The operator key does not come from the log, and still works. (Reads from the log: this app
    // runs no projections.)
    expect((await http().get('/v1/events').query({ tenantId }).set(AUTH)).status).toBe(200);
  });

  it('logs what it met as a warning, not as a failure with its stack', () => {
    const lines = logs
      .text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { level: string; msg: string; status?: number });
    // Each 5xx answer has its request line at error level, as for any 503; nothing else is an error.
    const errors = lines.filter((line) => line.level === 'error' || line.level === 'fatal');
    expect(errors.filter((line) => line.status !== 503)).toEqual([]);
    expect(lines.some((line) => line.level === 'warn' && line.msg.includes('TenantLabelAdded'))).toBe(true);
  });
});

describe('the read models meeting an event of a newer version', () => {
  let app: TestApp;
  const logs = capture();
  const http = () => request(app.server);
  const consumersOf = async () =>
    (await http().get('/health/ready')).body.details.consumers as Record<
      string,
      { state: string; position: string | null; failure?: string }
    >;

  beforeAll(async () => {
    app = await startTestApp({}, createLogger('warn', logs));
  });
  afterAll(async () => {
    await app.close();
  });

  it('each projection stops at it, membership included, instead of moving past it', async () => {
    const tenantId = randomUUID();
    expect(
      (
        await http()
          .post('/v1/tenants')
          .set(AUTH)
          .send({ tenantId, name: `Read ${tenantId}` })
      ).status,
    ).toBe(201);
    // A type a newer version may add, one that could take grants away: skipping it would leave
    // this version's read of who may do what wrong for good.
    const unknown = await app.runtime.eventStore.appendToStream(
      tenantStreamName(tenantId),
      [{ type: 'GrantsExpired', data: { tenantId }, metadata: { actor: 'operator', schemaVersion: 2 } }],
      'stream_exists',
    );
    const later = randomUUID();
    expect(
      (
        await http()
          .post('/v1/tenants')
          .set(AUTH)
          .send({ tenantId: later, name: `Read ${later}` })
      ).status,
    ).toBe(201);
    const projections = ['tenancy-read-model', 'audit-log', 'membership-read-model'];
    await waitFor(async () => {
      const consumers = await consumersOf();
      return projections.every((name) => consumers[name]?.state === 'failed');
    }, 20_000);
    const consumers = await consumersOf();
    for (const name of projections) {
      expect(consumers[name]?.failure).toContain('unknown event type GrantsExpired');
      expect((consumers[name]?.position ?? '') < unknown.position).toBe(true);
    }
  });
});

describe('an instance that starts on a log holding a key event of a newer version', () => {
  it('is ready, says why its tenant keys are refused, and refuses them with 503 rather than loading for ever', async () => {
    const database = await createTestDatabase();
    const first = await startTestAppOn(database, { runConsumers: false });
    try {
      const tenantId = randomUUID();
      expect(
        (
          await request(first.server)
            .post('/v1/tenants')
            .set(AUTH)
            .send({ tenantId, name: `Start ${tenantId}` })
        ).status,
      ).toBe(201);
      const issued = await request(first.server)
        .post(`/v1/tenants/${tenantId}/api-keys`)
        .set(AUTH)
        .send({ role: 'admin' });
      expect(issued.status).toBe(201);
      await first.runtime.eventStore.appendToStream(
        tenantStreamName(tenantId),
        [
          {
            type: 'ApiKeyRevoked',
            data: { tenantId, apiKeyId: issued.body.apiKeyId as string, reason: 'rotated' },
            metadata: { actor: 'operator', schemaVersion: CURRENT_SCHEMA_VERSION + 1 },
          },
        ],
        'stream_exists',
      );
      await first.close();
      const logs = capture();
      const second = await startTestAppOn(database, { runConsumers: false }, createLogger('warn', logs));
      try {
        const http = () => request(second.server);
        let ready: request.Response | undefined;
        await waitFor(async () => {
          ready = await http().get('/health/ready');
          return ready.body.details?.apiKeys?.status === 'degraded';
        }, 10_000);
        expect(ready?.status).toBe(200);
        const refused = await http()
          .get('/v1/events')
          .query({ tenantId })
          .set({ Authorization: `Bearer ${issued.body.secret as string}` });
        expect(refused.status).toBe(503);
        expect(refused.body.code).toBe('EVENT_FROM_NEWER_VERSION');
        // Said once, not at every retry of the registry.
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        expect(logs.text().match(/stopped at a key event a newer version wrote/g)).toHaveLength(1);
      } finally {
        await second.close();
      }
    } finally {
      await database.drop();
    }
  });
});

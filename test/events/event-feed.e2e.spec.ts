import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import type {
  EventFilter,
  EventStore,
  RecordedEvent,
  SubscribeOptions,
} from '../../src/event-store/event-store.port.js';
import { loadEventSchemaCatalog } from '../../src/http/events/event-schema.catalog.js';
import { CURRENT_SCHEMA_VERSION, TENANCY_EVENT_TYPES } from '../../src/tenancy/tenancy.events.js';
import { encodePosition } from '../../src/event-store/position.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';
import { processManagersSettled } from '../support/process-managers-settled.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { listeningPort, openEventStream, type EventStreamClient } from './sse-client.js';

const HEARTBEAT_MS = 50;
const POSITION_PAST_THE_LOG =
  'is after the last event of the log: a position from another database, or from before a restore?';

interface FeedItem {
  position: string;
  streamName: string;
  revision: number;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  recordedAt: string;
}

describe('event feed for consumers', () => {
  let app: TestApp;
  const http = () => request(app.server);
  const openStreams: EventStreamClient[] = [];
  const stream = (path: string, headers: Record<string, string> = {}) => {
    const client = openEventStream(app.server, path, { ...AUTH, ...headers });
    openStreams.push(client);
    return client;
  };

  beforeAll(async () => {
    // A short heartbeat keeps the idle test quick.
    app = await startTestApp({ sseHeartbeatMs: HEARTBEAT_MS });
    await app.app.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    for (const client of openStreams) client.close();
    await app.close();
  });

  const createTenant = async () => {
    const tenantId = randomUUID();
    const response = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .send({ tenantId, name: `Feed ${tenantId}` });
    expect(response.status).toBe(201);
    return tenantId;
  };
  const createWorkspace = async (tenantId: string, name: string, parentWorkspaceId?: string) => {
    const response = await http()
      .post(`/v1/tenants/${tenantId}/workspaces`)
      .set(AUTH)
      .send({ name, ...(parentWorkspaceId ? { parentWorkspaceId } : {}) });
    expect(response.status).toBe(201);
    return response.body.workspaceId as string;
  };
  const rename = async (tenantId: string, workspaceId: string, name: string) => {
    const response = await http()
      .patch(`/v1/tenants/${tenantId}/workspaces/${workspaceId}`)
      .set(AUTH)
      .send({ name });
    expect(response.status).toBe(200);
  };
  const storedStream = async (tenantId: string) => {
    const { rows } = await app.database.pool.query<{
      event_id: string;
      stream_revision: number;
      event_type: string;
    }>(
      'SELECT event_id, stream_revision, event_type FROM events WHERE stream_name = $1 ORDER BY stream_revision',
      [tenantStreamName(tenantId)],
    );
    return rows;
  };
  const page = async (query: Record<string, string | number>) => {
    const response = await http().get('/v1/events').set(AUTH).query(query);
    expect(response.status).toBe(200);
    return response.body as { items: FeedItem[]; next: string };
  };
  const parsed = (client: EventStreamClient) =>
    client.events.map((event) => JSON.parse(event.data) as FeedItem);

  describe('GET /v1/events (pages)', () => {
    it('pages through the whole log after a position: every tenant event once, in log order, never a name reservation', async () => {
      const tenantId = await createTenant();
      await createWorkspace(tenantId, 'A');
      // Read first: process managers may append more while the pages are read, which only adds items.
      const { rows } = await app.database.pool.query<{ stream_name: string; stream_revision: number }>(
        'SELECT stream_name, stream_revision FROM events',
      );
      const items: FeedItem[] = [];
      let after: string | undefined;
      for (;;) {
        const body = await page({ limit: 7, ...(after ? { after } : {}) });
        items.push(...body.items);
        if (body.items.length === 0) {
          expect(body.next).toBe(after);
          break;
        }
        after = body.next;
      }
      const positions = items.map((item) => item.position);
      expect([...positions].sort()).toEqual(positions);
      expect(new Set(positions).size).toBe(positions.length);
      expect(items.every((item) => item.streamName.startsWith('tenant-'))).toBe(true);
      expect(rows.some((row) => row.stream_name.startsWith('tenantname-'))).toBe(true);
      const served = new Set(items.map((item) => `${item.streamName}@${item.revision}`));
      const stored = rows.filter((row) => row.stream_name.startsWith('tenant-'));
      expect(stored.filter((row) => !served.has(`${row.stream_name}@${row.stream_revision}`))).toEqual([]);
      expect(served.size).toBe(items.length);
    });

    it('serves each event with its place in the log, current-version metadata and the documented fields', async () => {
      const tenantId = await createTenant();
      // The type filter keeps out the root workspace, which a process manager may add meanwhile.
      const body = await page({ tenantId, types: 'TenantCreated' });
      expect(body.items).toEqual([
        {
          position: expect.stringMatching(/^[0-9a-f]{16}-[0-9a-f]{16}$/),
          streamName: `tenant-${tenantId}`,
          revision: 0,
          type: 'TenantCreated',
          data: { tenantId, name: `Feed ${tenantId}`, nameReservation: 0 },
          metadata: expect.objectContaining({ schemaVersion: CURRENT_SCHEMA_VERSION, actor: 'operator' }),
          recordedAt: expect.any(String),
        },
      ]);
      // A filtered page may move next past events it skipped, never back before what it served.
      expect(body.next >= body.items[0]!.position).toBe(true);
    });

    it('filters by tenant and by event types, matching the stored stream exactly', async () => {
      const tenantId = await createTenant();
      const other = await createTenant();
      const a = await createWorkspace(tenantId, 'A');
      await createWorkspace(other, 'A');
      await rename(tenantId, a, 'A2');
      await rename(other, rootWorkspaceIdOf(other), 'Top');

      const all = await page({ tenantId, limit: 1000 });
      expect(all.items.map((item) => item.revision)).toEqual(
        (await storedStream(tenantId)).map((row) => row.stream_revision),
      );
      expect(all.items.every((item) => item.streamName === `tenant-${tenantId}`)).toBe(true);

      const renames = await page({ tenantId: tenantId.toUpperCase(), types: 'WorkspaceRenamed' });
      expect(renames.items.map((item) => [item.type, item.data.name])).toEqual([['WorkspaceRenamed', 'A2']]);

      const several = await page({ tenantId, types: 'TenantCreated, WorkspaceRenamed' });
      expect(several.items.map((item) => item.type)).toEqual(['TenantCreated', 'WorkspaceRenamed']);
    });

    it('moves next past events a filter skipped, so a consumer does not rescan them', async () => {
      const tenantId = await createTenant();
      const first = await page({ tenantId, types: 'TenantCreated' });
      expect(first.items).toHaveLength(1);
      await createTenant();
      const again = await page({ tenantId, types: 'TenantCreated', after: first.next });
      expect(again.items).toEqual([]);
      expect(again.next > first.next).toBe(true);
    });

    it.each([
      ['the largest position', 'ffffffffffffffff-ffffffffffffffff'],
      ['a transaction past any there is', 'ffffffffffffff00-0000000000000001'],
    ])(
      "refuses a well-formed position after the log's last event (%s): no event of this log has it, and a consumer holding it would wait for ever",
      async (_label, after) => {
        const response = await http().get('/v1/events').set(AUTH).query({ after });
        expect({ status: response.status, errors: response.body.errors }).toEqual({
          status: 400,
          errors: [{ field: 'after', message: POSITION_PAST_THE_LOG }],
        });
      },
    );

    it("accepts the log's last event's position as after", async () => {
      await createTenant();
      const { rows } = await app.database.pool.query<{ txid: string; global_position: string }>(
        `SELECT transaction_id::text AS txid, global_position::text AS global_position FROM events
         ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
      );
      const last = encodePosition(BigInt(rows[0]!.txid), BigInt(rows[0]!.global_position));
      const response = await http().get('/v1/events').set(AUTH).query({ after: last });
      // A process manager may have appended since: whatever comes, it comes after.
      expect(response.status).toBe(200);
      for (const item of response.body.items as FeedItem[]) expect(item.position > last).toBe(true);
    });

    it('reads after a sequence past any PostgreSQL bigint as after the largest one', async () => {
      // The first few events only: the log may grow between the two reads.
      await createTenant();
      const largest = await http()
        .get('/v1/events')
        .set(AUTH)
        .query({ after: '0000000000000001-7fffffffffffffff', limit: 3 });
      const past = await http()
        .get('/v1/events')
        .set(AUTH)
        .query({ after: '0000000000000001-8000000000000000', limit: 3 });
      expect(largest.status).toBe(200);
      expect(largest.body.items.length).toBeGreaterThan(0);
      expect({ status: past.status, body: past.body }).toEqual({ status: 200, body: largest.body });
    });

    it.each([
      ['a malformed position', { after: 'not-a-position' }],
      ['a limit of 0', { limit: 0 }],
      ['a limit over 1000', { limit: 1001 }],
      // Read as the other routes read a limit: decimal digits only, not as Number() would.
      ['a limit in hexadecimal', { limit: '0x10' }],
      ['a limit with a decimal point', { limit: '1.0' }],
      ['a limit in exponent form', { limit: '1e2' }],
      ['an empty limit', { limit: '' }],
      ['a tenantId that is not a UUID', { tenantId: 'acme' }],
      ['an unknown event type', { types: 'WorkspaceCreated,TenantNameReserved' }],
      ['an empty type in the list', { types: 'WorkspaceCreated,' }],
      ['an unknown parameter', { cursor: 'x' }],
    ])('refuses %s with 400 VALIDATION_FAILED', async (_label, query) => {
      const response = await http().get('/v1/events').set(AUTH).query(query);
      expect({ status: response.status, code: response.body.code }).toEqual({
        status: 400,
        code: 'VALIDATION_FAILED',
      });
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    });

    it('needs the operator key', async () => {
      expect((await http().get('/v1/events')).status).toBe(401);
      expect((await http().get('/v1/events/stream')).status).toBe(401);
      expect((await http().get('/v1/events/schemas')).status).toBe(401);
    });
  });

  describe('GET /v1/events/schemas', () => {
    it('serves the catalog of schemas/events, read at start', async () => {
      const response = await http().get('/v1/events/schemas').set(AUTH);
      expect(response.status).toBe(200);
      const catalog = await loadEventSchemaCatalog();
      expect(catalog.length).toBeGreaterThanOrEqual(TENANCY_EVENT_TYPES.length);
      expect(response.body).toEqual({ items: catalog });
    });
  });

  describe('GET /v1/events/stream (Server-Sent Events)', () => {
    it("counts each tenant's key against its own stream limit, even when two tenants chose the same key id", async () => {
      const apiKeyId = randomUUID();
      const secretIn = async (tenantId: string) => {
        const issued = await http()
          .post(`/v1/tenants/${tenantId}/api-keys`)
          .set(AUTH)
          .send({ apiKeyId, role: 'reader' });
        expect(issued.status).toBe(201);
        return { Authorization: `Bearer ${(issued.body as { secret: string }).secret}` };
      };
      const [one, other] = [await createTenant(), await createTenant()];
      const oneKey = await secretIn(one);
      const otherKey = await secretIn(other);
      // TENANCY_SSE_MAX_STREAMS_PER_KEY's default.
      const opened = Array.from({ length: 16 }, () =>
        stream(`/v1/events/stream?tenantId=${one}&from=end`, oneKey),
      );
      expect(await Promise.all(opened.map((client) => client.status))).toEqual(opened.map(() => 200));
      expect(await stream(`/v1/events/stream?tenantId=${one}&from=end`, oneKey).status).toBe(429);
      const others = stream(`/v1/events/stream?tenantId=${other}&from=end`, otherKey);
      expect(await others.status).toBe(200);
      for (const client of [...opened, others]) client.close();
    });

    it('delivers every event exactly once, in order, to a consumer that disconnects and resumes with Last-Event-ID while writes continue', async () => {
      const tenantId = await createTenant();
      const writes = (async () => {
        let parent: string | undefined;
        for (let i = 0; i < 40; i++) {
          const id = await createWorkspace(tenantId, `W${i}`, i % 4 === 0 ? undefined : parent);
          if (i % 4 === 0) parent = id;
          if (i % 5 === 0) await rename(tenantId, id, `W${i} renamed`);
        }
      })();

      const first = stream(`/v1/events/stream?tenantId=${tenantId}`);
      expect(await first.status).toBe(200);
      await first.waitForEvents(15);
      first.close();
      await first.closed;
      const firstPart = first.events.slice();
      const lastSeen = firstPart.at(-1)?.id;
      expect(lastSeen).toBeDefined();

      // A second, overlapping gap: the consumer is gone while the writer keeps going.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const resumed = stream(`/v1/events/stream?tenantId=${tenantId}&from=start`, {
        'Last-Event-ID': lastSeen!,
      });
      await writes;
      const stored = await storedStream(tenantId);
      await resumed.waitForEvents(stored.length - firstPart.length);

      const delivered = [...firstPart, ...resumed.events].map((event) => JSON.parse(event.data) as FeedItem);
      expect(delivered.map((item) => item.revision)).toEqual(stored.map((row) => row.stream_revision));
      expect(delivered.map((item) => item.type)).toEqual(stored.map((row) => row.event_type));
      expect([...firstPart, ...resumed.events].map((event) => event.id)).toEqual(
        delivered.map((item) => item.position),
      );
      expect([...firstPart, ...resumed.events].map((event) => event.event)).toEqual(
        delivered.map((item) => item.type),
      );

      // Nothing more arrives after the last event: no duplicates trailing behind.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(resumed.events).toHaveLength(stored.length - firstPart.length);
    });

    it("ends a key's stream when the key is revoked or its tenant's deletion starts: nothing written after reaches it", async () => {
      const issueKey = async (tenantId: string) => {
        const issued = await http()
          .post(`/v1/tenants/${tenantId}/api-keys`)
          .set(AUTH)
          .send({ role: 'reader' });
        expect(issued.status).toBe(201);
        const { apiKeyId, secret } = issued.body as { apiKeyId: string; secret: string };
        return { apiKeyId, auth: { Authorization: `Bearer ${secret}` } };
      };
      const endsWithin = (client: EventStreamClient, ms: number) =>
        Promise.race([
          client.closed.then(() => 'ended'),
          new Promise((resolve) => setTimeout(() => resolve('still open'), ms)),
        ]);

      const tenantId = await createTenant();
      // The streams start at the end of the log: the root's bootstrap must not arrive in them.
      await processManagersSettled(app);
      const revoked = await issueKey(tenantId);
      const going = await issueKey(tenantId);
      const ofRevoked = stream(`/v1/events/stream?tenantId=${tenantId}&from=end`, revoked.auth);
      const ofGoing = stream(`/v1/events/stream?tenantId=${tenantId}&from=end`, going.auth);
      const ofOperator = stream(`/v1/events/stream?tenantId=${tenantId}&from=end`);
      expect(await Promise.all([ofRevoked.status, ofGoing.status, ofOperator.status])).toEqual([
        200, 200, 200,
      ]);
      await createWorkspace(tenantId, 'Before');
      await ofRevoked.waitForEvents(1);

      const revocation = await http()
        .delete(`/v1/tenants/${tenantId}/api-keys/${revoked.apiKeyId}`)
        .set(AUTH);
      expect(revocation.status).toBe(204);
      await createWorkspace(tenantId, 'After the revocation');
      expect(await endsWithin(ofRevoked, 2_000)).toBe('ended');
      expect(parsed(ofRevoked).map((item) => [item.type, item.data.name ?? item.data.apiKeyId])).toEqual([
        ['WorkspaceCreated', 'Before'],
        ['ApiKeyRevoked', revoked.apiKeyId],
      ]);

      expect((await http().delete(`/v1/tenants/${tenantId}`).set(AUTH)).status).toBe(202);
      expect(await endsWithin(ofGoing, 2_000)).toBe('ended');
      expect(parsed(ofGoing).map((item) => item.type)).not.toContain('TenantDeleted');
      // The operator's stream goes on.
      await waitUntil(() => parsed(ofOperator).some((item) => item.type === 'TenantDeleted'));
    });

    it('sends a keep-alive comment while there is nothing to deliver', async () => {
      const client = stream(`/v1/events/stream?tenantId=${randomUUID()}&from=end`);
      expect(await client.status).toBe(200);
      await waitUntil(() => client.comments.filter((comment) => comment === 'keep-alive').length >= 3);
      expect(client.events).toEqual([]);
    });

    it('applies the tenant and type filters to live events', async () => {
      const tenantId = await createTenant();
      const other = await createTenant();
      const client = stream(
        `/v1/events/stream?tenantId=${tenantId}&types=WorkspaceRenamed,WorkspaceDeleted&from=end`,
      );
      expect(await client.status).toBe(200);
      const a = await createWorkspace(tenantId, 'A');
      const b = await createWorkspace(other, 'B');
      await rename(other, b, 'B2');
      await rename(tenantId, a, 'A2');
      expect((await http().delete(`/v1/tenants/${tenantId}/workspaces/${a}`).set(AUTH)).status).toBe(204);
      await client.waitForEvents(2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(parsed(client).map((item) => [item.streamName, item.type, item.data.workspaceId])).toEqual([
        [`tenant-${tenantId}`, 'WorkspaceRenamed', a],
        [`tenant-${tenantId}`, 'WorkspaceDeleted', a],
      ]);
    });

    it('starts after the position given in from', async () => {
      const tenantId = await createTenant();
      const a = await createWorkspace(tenantId, 'A');
      await rename(tenantId, a, 'A2');
      const items = (await page({ tenantId })).items;
      const client = stream(`/v1/events/stream?tenantId=${tenantId}&from=${items[1]!.position}`);
      await client.waitForEvents(items.length - 2);
      expect(parsed(client)).toEqual(items.slice(2));
    });

    it.each([
      ['a malformed from', '?from=12', {}],
      ['a malformed Last-Event-ID', '', { 'Last-Event-ID': 'garbage' }],
      ['an unknown type', '?types=Nope', {}],
      ["a from after the log's last event", '?from=ffffffffffffffff-ffffffffffffffff', {}],
      [
        "a Last-Event-ID after the log's last event",
        '',
        { 'Last-Event-ID': 'ffffffffffffff00-0000000000000001' },
      ],
    ])('refuses %s with 400 before streaming', async (_label, query, headers) => {
      const response = await http().get(`/v1/events/stream${query}`).set(AUTH).set(headers);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    });

    it("answers HEAD with the stream's headers and ends the response: HEADs on connections kept open hold no stream, so they never use up the key's streams", async () => {
      const tenantId = await createTenant();
      const issued = await http().post(`/v1/tenants/${tenantId}/api-keys`).set(AUTH).send({ role: 'reader' });
      const secret = (issued.body as { secret: string }).secret;
      // Connections kept open after their answer, as a monitoring client's pool keeps them.
      const sockets: net.Socket[] = [];
      const head = (path: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = net.connect(listeningPort(app.server), '127.0.0.1');
          sockets.push(socket);
          let received = '';
          socket.on('data', (chunk) => {
            received += chunk.toString('latin1');
            if (received.includes('\r\n\r\n')) resolve(received);
          });
          socket.on('error', reject);
          socket.write(`HEAD ${path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${secret}\r\n\r\n`);
        });
      try {
        // More than TENANCY_SSE_MAX_STREAMS_PER_KEY's default (16).
        for (let i = 0; i < 20; i++) {
          const answer = await head(`/v1/events/stream?tenantId=${tenantId}`);
          expect(answer).toMatch(/^HTTP\/1\.1 200 /);
          expect(answer).toMatch(/\r\nContent-Type: text\/event-stream; charset=utf-8\r\n/i);
        }
        const client = stream(`/v1/events/stream?tenantId=${tenantId}&from=end`, {
          Authorization: `Bearer ${secret}`,
        });
        expect(await client.status).toBe(200);
        client.close();
        // Validated as the GET would be.
        expect(await head(`/v1/events/stream?tenantId=${tenantId}&types=Nope`)).toMatch(/^HTTP\/1\.1 400 /);
      } finally {
        for (const socket of sockets) socket.destroy();
      }
    });

    it('answers HEAD with 429 and Retry-After while the key holds every stream it may, as it answers a GET', async () => {
      const tenantId = await createTenant();
      const issued = await http().post(`/v1/tenants/${tenantId}/api-keys`).set(AUTH).send({ role: 'reader' });
      const key = { Authorization: `Bearer ${(issued.body as { secret: string }).secret}` };
      const path = `/v1/events/stream?tenantId=${tenantId}&from=end`;
      // TENANCY_SSE_MAX_STREAMS_PER_KEY's default.
      const held = Array.from({ length: 16 }, () => stream(path, key));
      for (const client of held) expect(await client.status).toBe(200);

      const refused = await http().head(path).set(key);
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('5');
      expect(await stream(path, key).status).toBe(429);

      held[0]?.close();
      await waitUntil(async () => (await http().head(path).set(key)).status === 200, 5_000);
    });

    it('stops following the store when the client disconnects', async () => {
      const store: EventStore = app.runtime.eventStore;
      const tenantId = await createTenant();
      const feedStream = tenantStreamName(tenantId);
      // What the stream reads of the store: pages with its filter, or its subscription's events.
      let reads = 0;
      const isFeeds = (filter: EventFilter | undefined) => filter?.stream === feedStream;
      const originalReadAll = store.readAll.bind(store);
      const pageSpy = jest.spyOn(store, 'readAll').mockImplementation(async (options) => {
        if (isFeeds(options.filter)) reads++;
        return originalReadAll(options);
      });
      const original = store.subscribe.bind(store);
      const spy = jest.spyOn(store, 'subscribe').mockImplementation((options: SubscribeOptions) =>
        (async function* (): AsyncIterable<RecordedEvent> {
          for await (const event of original(options)) {
            if (isFeeds(options.filter)) reads++;
            yield event;
          }
        })(),
      );
      try {
        const client = stream(`/v1/events/stream?tenantId=${tenantId}`);
        expect(await client.status).toBe(200);
        // Live: a new event of the tenant is read and delivered.
        await createWorkspace(tenantId, 'seen');
        await client.waitForEvents(3, 10_000);
        client.close();
        await new Promise((resolve) => setTimeout(resolve, 300));
        const afterClose = reads;
        // Gone: the log grows, and nothing reads it on the closed stream's behalf.
        await createWorkspace(tenantId, 'unseen');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(reads).toBeGreaterThan(0);
        expect(reads).toBe(afterClose);
      } finally {
        spy.mockRestore();
        pageSpy.mockRestore();
      }
    });

    it('stops pulling from the store while a client does not read, and delivers everything once it reads again', async () => {
      const store: EventStore = app.runtime.eventStore;
      const tenantId = randomUUID();
      const total = 25_000;
      // Large events, appended straight to the store: enough to overflow every socket buffer between
      // the service and a client that has stopped reading.
      const padding = 'x'.repeat(190);
      for (let revision = 0; revision < total; revision += 1000) {
        await store.appendToStream(
          tenantStreamName(tenantId),
          Array.from({ length: 1000 }, (_, index) => ({
            type: 'WorkspaceRenamed',
            data: { tenantId, workspaceId: randomUUID(), name: `${padding}${revision + index}` },
            metadata: {
              correlationId: padding,
              causationId: padding,
              actor: 'bench',
              occurredAt: new Date().toISOString(),
              schemaVersion: 1,
            },
          })),
          revision === 0 ? 'no_stream' : revision - 1,
        );
      }
      // Counts every event read from the store, by page (catching up) or by subscription (live).
      let pulled = 0;
      const original = store.subscribe.bind(store);
      const originalReadAll = store.readAll.bind(store);
      // Only the stream's own reads: the service's projections read the same events for themselves.
      const isFeeds = (filter: EventFilter | undefined) => filter?.stream === tenantStreamName(tenantId);
      const pageSpy = jest.spyOn(store, 'readAll').mockImplementation(async (options) => {
        const page = await originalReadAll(options);
        if (isFeeds(options.filter)) pulled += page.events.length;
        return page;
      });
      const spy = jest.spyOn(store, 'subscribe').mockImplementation((options: SubscribeOptions) =>
        (async function* (): AsyncIterable<RecordedEvent> {
          for await (const event of original(options)) {
            if (isFeeds(options.filter)) pulled++;
            yield event;
          }
        })(),
      );
      try {
        const client = stream(`/v1/events/stream?tenantId=${tenantId}`);
        client.pause();
        expect(await client.status).toBe(200);
        let previous = -1;
        await waitUntil(async () => {
          const settled = pulled > 0 && pulled === previous;
          previous = pulled;
          if (!settled) await new Promise((resolve) => setTimeout(resolve, 300));
          return settled;
        });
        expect(pulled).toBeLessThan(total / 2);

        client.resume();
        // What is asserted is that everything arrives, once and in order, and that nothing was
        // pulled while the client did not read; how fast is the benchmark's to measure. This suite
        // took 9-11 s in CI runs, and 56.3 s in one of them (cause not found: it did not happen
        // again alone or after the suites CI ran before it), so the wait has room beyond that.
        await client.waitForEvents(total, 100_000);
        const revisions = parsed(client).map((item) => item.revision);
        expect(revisions).toEqual(Array.from({ length: total }, (_, index) => index));
        expect(pulled).toBe(total);
      } finally {
        spy.mockRestore();
        pageSpy.mockRestore();
      }
    }, 150_000);
  });
});

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

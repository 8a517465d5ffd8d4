import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import {
  call,
  PROCESS_OPERATOR_KEY,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

interface OpenStream {
  readonly response: http.IncomingMessage;
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly closed: Promise<void>;
  close(): void;
}

/** Opens an event stream and never reads it: a consumer that hung, or a hostile one. */
function openPausedStream(service: ServiceProcess, key: string, query = 'from=start'): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${service.baseUrl}/v1/events/stream?${query}`, {
      headers: { Authorization: `Bearer ${key}` },
      agent: false,
    });
    request.on('error', reject);
    request.on('response', (response) => {
      response.pause();
      const closed = new Promise<void>((done) => {
        response.socket.once('close', () => done());
      });
      resolve({
        response,
        status: response.statusCode ?? 0,
        headers: response.headers,
        closed,
        close: () => request.destroy(),
      });
    });
  });
}

function residentMegabytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
}

/** Event streams are bounded: in number, in memory per paused client, and in how long they may stall. */
describe('event stream limits', () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  let readerKey: string;
  let tenantId: string;
  const streams: OpenStream[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    // A log long enough (20,000 events of about 1 kB) that no paused client could ever take it all in.
    const store = new PostgresEventStore(database.pool, database.url);
    tenantId = randomUUID();
    const padding = 'x'.repeat(300);
    for (let revision = 0; revision < 20_000; revision += 1_000) {
      await store.appendToStream(
        tenantStreamName(tenantId),
        Array.from({ length: 1_000 }, (_, index) => ({
          type: 'WorkspaceRenamed',
          data: { tenantId, workspaceId: randomUUID(), name: `${padding}${revision + index}` },
          metadata: { correlationId: padding, causationId: padding, actor: 'test', schemaVersion: 1 },
        })),
        revision === 0 ? 'no_stream' : revision - 1,
      );
    }
    await store.close();
    service = await startServiceProcess({
      env: {
        DATABASE_URL: database.url,
        TENANCY_RUN_CONSUMERS: 'false',
        TENANCY_SSE_MAX_STREAMS: '200',
        TENANCY_SSE_MAX_STREAMS_PER_KEY: '150',
      },
    });
    const created = await call(service, 'POST', '/v1/tenants', { name: `Streams ${randomUUID()}` });
    const key = await call(service, 'POST', `/v1/tenants/${String(created.body.tenantId)}/api-keys`, {
      role: 'reader',
    });
    expect(key.status).toBe(201);
    readerKey = String(key.body.secret);
    tenantId = String(created.body.tenantId);
  }, 120_000);
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await service?.stop();
    await database?.drop();
  });

  it('200 paused clients cost the service less than 200 MB in all, and the caps answer 429', async () => {
    const pid = service.child.pid!;
    const before = residentMegabytes(pid);
    for (let index = 0; index < 150; index++)
      streams.push(await openPausedStream(service, PROCESS_OPERATOR_KEY));
    // The operator key holds its 150 streams: one more is refused.
    const perKey = await openPausedStream(service, PROCESS_OPERATOR_KEY);
    perKey.close();
    expect(perKey.status).toBe(429);
    expect(perKey.headers['retry-after']).toBeDefined();
    for (let index = 0; index < 50; index++) {
      streams.push(await openPausedStream(service, readerKey, `from=start&tenantId=${tenantId}`));
    }
    expect(streams.every((stream) => stream.status === 200)).toBe(true);
    // The instance holds 200 streams: a key with room left is refused all the same.
    const total = await openPausedStream(service, readerKey, `from=start&tenantId=${tenantId}`);
    total.close();
    expect(total.status).toBe(429);

    // Let every stream fill its buffers, then measure.
    let previous = 0;
    await waitFor(async () => {
      const now = residentMegabytes(pid);
      const settled = Math.abs(now - previous) < 2;
      previous = now;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return settled;
    }, 30_000);
    const grown = residentMegabytes(pid) - before;
    expect(grown).toBeLessThan(200);

    // Closing a stream frees its place.
    streams.pop()?.close();
    await waitFor(async () => {
      const again = await openPausedStream(service, readerKey, `from=start&tenantId=${tenantId}`);
      streams.push(again);
      if (again.status !== 200) streams.pop()?.close();
      return again.status === 200;
    }, 5_000);
    for (const stream of streams.splice(0)) stream.close();
  }, 90_000);

  it('a client that reads nothing for the stall timeout is disconnected', async () => {
    const stalling = await startServiceProcess({
      env: {
        DATABASE_URL: database.url,
        TENANCY_RUN_CONSUMERS: 'false',
        TENANCY_SSE_STALL_TIMEOUT_MS: '1000',
      },
    });
    try {
      const stream = await openPausedStream(stalling, PROCESS_OPERATOR_KEY);
      expect(stream.status).toBe(200);
      // A paused socket does not notice its peer hanging up: the service says when it cut it.
      await waitFor(async () => /the client read nothing for 1000 ms/.test(stalling.output()), 20_000);
      // Reading again finds the end of a cut connection, not the rest of the log.
      let received = 0;
      stream.response.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8').split('\nid: ').length - 1;
      });
      stream.response.on('error', () => undefined);
      stream.response.resume();
      await Promise.race([
        stream.closed,
        new Promise((_, reject) => setTimeout(() => reject(new Error('still connected')), 10_000)),
      ]);
      expect(received).toBeLessThan(20_000);
    } finally {
      await stalling.stop();
    }
  }, 60_000);
});

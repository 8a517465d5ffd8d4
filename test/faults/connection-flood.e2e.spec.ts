import { readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import {
  call,
  PROCESS_OPERATOR_KEY,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A client that opens connections and sends nothing on them: each one holds a file descriptor of
 * the service until the headers bound ends it (TENANCY_HTTP_HEADERS_TIMEOUT_MS; see
 * slow-clients.e2e.spec.ts). Without a cap, a few thousand of them used up the process's open-files
 * limit: new clients then waited for an answer that never came, and anything the service itself
 * had to open (a database connection, a module) failed.
 */
describe('a flood of idle connections', () => {
  let database: TestDatabase;
  let service: ServiceProcess | undefined;
  const floods: IdleConnections[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    for (const flood of floods.splice(0)) flood.closeAll();
    await service?.stop();
    service = undefined;
  });
  afterAll(async () => {
    await database.drop();
  });

  it('past TENANCY_HTTP_MAX_CONNECTIONS: further connections are closed as they arrive, counted and logged once, and those held keep working', async () => {
    service = await startServiceProcess({
      env: { DATABASE_URL: database.url, TENANCY_HTTP_MAX_CONNECTIONS: '50' },
    });
    const held = new KeepAliveClient(service.port);
    expect((await held.request('GET', '/health/live')).status).toBe(200);

    const flood = await openIdleConnections(service.port, 80);
    floods.push(flood);
    // 80 arrive with the held connection open, and perhaps the readiness probe's: 31 or 32 closed.
    expect(flood.closed).toBeGreaterThanOrEqual(31);
    expect(flood.open).toBeLessThanOrEqual(49);

    const created = await held.request('POST', '/v1/tenants', { name: `Flooded ${randomUUID()}` });
    expect(created.status).toBe(201);
    const metrics = await held.request('GET', '/metrics');
    expect(metricValue(metrics.text, 'tenancy_http_connections_refused_total')).toBe(flood.closed);
    // The flood's open connections and the held one, and the readiness probe's, until its client
    // lets that connection go (a few seconds after its last request).
    const open = metricValue(metrics.text, 'tenancy_http_connections_open');
    expect(open).toBeGreaterThanOrEqual(flood.open + 1);
    expect(open).toBeLessThanOrEqual(50);
    const warnings = service
      .output()
      .split('\n')
      .filter((line) => line.includes('TENANCY_HTTP_MAX_CONNECTIONS'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0] ?? '{}')).toMatchObject({ level: 'warn' });

    flood.closeAll();
    held.close();
    await waitFor(async () => (await call(service!, 'GET', '/health/ready')).status === 200, 5_000);
  }, 60_000);

  it('with no setting, the cap stays below the open-files limit: the service can still open its database connections', async () => {
    const openFilesLimit = 1024;
    service = await startServiceProcess({ env: { DATABASE_URL: database.url }, openFilesLimit });
    const held = new KeepAliveClient(service.port);
    expect((await held.request('GET', '/health/live')).status).toBe(200);

    const flood = await openIdleConnections(service.port, openFilesLimit + 100);
    floods.push(flood);
    expect(flood.closed).toBeGreaterThan(100);
    const descriptors = readdirSync(`/proc/${service.child.pid}/fd`).length;
    expect(descriptors).toBeLessThan(openFilesLimit - 100);

    // Its sessions cut, the pool and the consumers must open new connections during the flood.
    await database.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND application_name NOT LIKE 'tenancy-test%'`,
    );
    let created = await held.request('POST', '/v1/tenants', { name: `Flooded ${randomUUID()}` });
    await waitFor(async () => {
      if (created.status === 503)
        created = await held.request('POST', '/v1/tenants', { name: `Flooded ${randomUUID()}` });
      return created.status !== 503;
    }, 10_000);
    expect(created.status).toBe(201);
    const position = String(JSON.parse(created.text).position);
    const read = await held.request(
      'GET',
      `/v1/tenants/${JSON.parse(created.text).tenantId}/workspaces`,
      undefined,
      {
        'Min-Position': position,
      },
    );
    expect(read.status).toBe(200);
    held.close();
  }, 60_000);
});

interface IdleConnections {
  readonly open: number;
  readonly closed: number;
  closeAll(): void;
}

/** Opens `count` connections that never send a byte; resolves once every one is open or closed, and none closed for 500 ms. */
async function openIdleConnections(port: number, count: number): Promise<IdleConnections> {
  const sockets: net.Socket[] = [];
  let connected = 0;
  let closed = 0;
  for (let index = 0; index < count; index++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => connected++);
    socket.on('error', () => undefined);
    socket.on('close', () => closed++);
    sockets.push(socket);
  }
  await waitFor(async () => connected + closed >= count, 10_000);
  let previous = -1;
  await waitFor(
    async () => {
      const settled = closed === previous;
      previous = closed;
      return settled;
    },
    10_000,
    500,
  );
  return {
    get open() {
      return count - closed;
    },
    get closed() {
      return closed;
    },
    closeAll() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** One keep-alive connection, opened before a flood, on which requests go one at a time. */
class KeepAliveClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly port: number) {}

  request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: {
            Authorization: `Bearer ${PROCESS_OPERATOR_KEY}`,
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
            ...headers,
          },
          timeout: 15_000,
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        },
      );
      request.on('timeout', () => request.destroy(new Error(`${method} ${path}: no answer in 15 s`)));
      request.on('error', reject);
      request.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function metricValue(exposition: string, name: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

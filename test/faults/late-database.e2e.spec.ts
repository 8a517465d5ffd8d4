import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { listeningPortIn } from '../../src/app/listening-port.js';
import { findFreePort } from '../../src/database/embedded-postgres.server.js';
import { call, spawnServiceProcess, type SpawnedService } from '../support/service-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import { useCleanups } from './fault-kit.js';

/**
 * A database started together with the service (a compose file, a pod) often answers a few seconds
 * after it. The service waits for it, up to TENANCY_DATABASE_START_WAIT_MS, and says so.
 */
describe('a database that is not there yet when the service starts', () => {
  const cleanup = useCleanups();

  const spawnOn = (databaseUrl: string, env: Record<string, string> = {}): SpawnedService => {
    const service = spawnServiceProcess({ env: { DATABASE_URL: databaseUrl, ...env } });
    cleanup(async () => {
      if (!service.hasExited()) service.child.kill('SIGKILL');
    });
    return service;
  };

  /** The database's URL on a port where nothing listens yet. */
  const onAFreePort = async (databaseUrl: string) => {
    const url = new URL(databaseUrl);
    const target = { host: url.hostname, port: Number(url.port) };
    url.port = String(await findFreePort());
    return { url: url.toString(), port: Number(url.port), target };
  };

  it('the service waits for it, saying so, and is ready once it answers', async () => {
    const database = await createTestDatabase();
    cleanup(() => database.drop());
    const { url, port, target } = await onAFreePort(database.url);
    const service = spawnOn(url);
    await waitFor(
      async () => /cannot reach the database: .+; trying again in/.test(service.output()),
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(service.hasExited()).toBe(false);

    // The database arrives on that port: a forwarder to the real one.
    const sockets = new Set<net.Socket>();
    const forwarder = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => socket.destroy());
        socket.on('close', () => sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => forwarder.listen(port, '127.0.0.1', resolve));
    cleanup(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => forwarder.close(resolve));
    });

    let servicePort: number | undefined;
    await waitFor(async () => (servicePort = listeningPortIn(service.output())) !== undefined, 30_000);
    const reached = { baseUrl: `http://127.0.0.1:${servicePort}` };
    await waitFor(async () => (await call(reached, 'GET', '/health/ready')).status === 200, 30_000);
    expect((await call(reached, 'POST', '/v1/tenants', { name: `Late ${randomUUID()}` })).status).toBe(201);
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  }, 90_000);

  it('with TENANCY_DATABASE_START_WAIT_MS=1000 and no database coming, it exits 1 after about a second, saying why', async () => {
    const database = await createTestDatabase();
    cleanup(() => database.drop());
    const { url } = await onAFreePort(database.url);
    const startedAt = Date.now();
    const service = spawnOn(url, { TENANCY_DATABASE_START_WAIT_MS: '1000' });
    expect(await service.exited).toBe(1);
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    expect(service.output()).toMatch(/trying again in 0.5 s/);
    expect(service.output()).toMatch(/"level":"fatal".*cannot reach the database: connect ECONNREFUSED/);
  }, 60_000);
});

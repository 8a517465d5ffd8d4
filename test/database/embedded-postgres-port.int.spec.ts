import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { findFreePort, startEmbeddedPostgres } from '../../src/database/embedded-postgres.server.js';

/**
 * The embedded server's port is picked free, then bound by PostgreSQL: in between, another process
 * can take it (tests start many servers at once). The start then tries another port, and a first
 * start that fails is reported rather than retried behind the caller's back.
 */
describe('the embedded PostgreSQL and a port taken before it listens', () => {
  let folder: string;
  let blocker: Server;
  let takenPort: number;

  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'tenancy-port-'));
    // Reachable by the postgres system user the server runs as under root.
    await chmod(folder, 0o755);
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    takenPort = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => {
    if (blocker.listening) await new Promise((resolve) => blocker.close(resolve));
    await rm(folder, { recursive: true, force: true });
  });

  it('starts on another port when the one picked is taken, and says so', async () => {
    const dataDir = path.join(folder, 'picked');
    const picked: number[] = [];
    const lines: string[] = [];
    const server = await startEmbeddedPostgres({
      dataDir,
      persistent: true,
      // The first pick is the port another process holds: the race, made certain.
      pickPort: async () => {
        const port = picked.length === 0 ? takenPort : await findFreePort();
        picked.push(port);
        return port;
      },
      log: (level, line) => lines.push(`${level} ${line}`),
    });
    try {
      expect(picked).toHaveLength(2);
      expect(Number(new URL(server.adminUrl).port)).toBe(picked[1]);
      const client = new pg.Client({ connectionString: server.adminUrl });
      await client.connect();
      try {
        expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await client.end();
      }
      expect(lines).toContain(
        `warn port ${takenPort} was taken before PostgreSQL listened on it; trying another`,
      );
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('keeps a port it was given, and a first start that fails is not retried in the background', async () => {
    const dataDir = path.join(folder, 'given');
    // Initialised and stopped once, so that only the port can make the next start fail.
    const first = await startEmbeddedPostgres({ dataDir, persistent: true });
    await first.stop();

    await expect(startEmbeddedPostgres({ dataDir, persistent: true, port: takenPort })).rejects.toThrow(
      `port ${takenPort} is taken`,
    );
    // Were the failed start retried, the server would now come up on the port as soon as it is free.
    await new Promise((resolve) => blocker.close(resolve));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  }, 60_000);
});

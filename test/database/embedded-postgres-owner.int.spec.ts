import { spawn } from 'node:child_process';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.server.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Which process owns the embedded server on a data directory is in `<data dir>.owner`; a start
 * that finds it naming a live process waits for that one's server to share it. A pid is used
 * again once its process is gone, so a live process that started after the file was written is
 * not its owner.
 */
describe('the embedded PostgreSQL and the owner file a gone process left', () => {
  let folder: string;

  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'tenancy-owner-'));
    // Reachable by the postgres system user the server runs as under root.
    await chmod(folder, 0o755);
  });
  afterAll(async () => rm(folder, { recursive: true, force: true }));

  it('takes a file naming a process that started after it was written for stale, and starts', async () => {
    const dataDir = path.join(folder, 'postgres');
    // The pid of a process that started now, in a file written an hour ago.
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const ownerFile = `${dataDir}.owner`;
      writeFileSync(ownerFile, `${stranger.pid}\n`);
      const anHourAgo = new Date(Date.now() - 3_600_000);
      utimesSync(ownerFile, anHourAgo, anHourAgo);

      const server = await startEmbeddedPostgres({ dataDir, persistent: false });
      try {
        expect(readFileSync(ownerFile, 'utf8').trim()).toBe(String(process.pid));
        expect(server.owned()).toBe(true);
      } finally {
        await server.stop();
      }
    } finally {
      stranger.kill();
    }
  }, 60_000);

  it('waits, saying so, while a live process holds the directory; starts once that process is gone', async () => {
    const dataDir = path.join(folder, 'held');
    // A process that claimed the directory (its pid in the owner file, written after it started)
    // and has not started a server yet.
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    const holderGone = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    writeFileSync(`${dataDir}.owner`, `${holder.pid}\n`);
    const lines: string[] = [];
    const starting = startEmbeddedPostgres({
      dataDir,
      persistent: false,
      log: (_level, line) => lines.push(line),
    });
    try {
      await waitFor(async () => lines.some((line) => line.includes('waiting to share it')), 15_000);
      expect(lines).toContain(
        `process ${holder.pid} is starting the embedded PostgreSQL on ${dataDir}: waiting to share it`,
      );
      holder.kill();
      await holderGone;

      const server = await starting;
      expect(server.owned()).toBe(true);
      expect(readFileSync(`${dataDir}.owner`, 'utf8').trim()).toBe(String(process.pid));
    } finally {
      // Whatever happened above, the start is let go on and its server stopped: none is left running.
      holder.kill();
      await starting.then((server) => server.stop()).catch(() => undefined);
    }
  }, 60_000);
});

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.server.js';
import { isAlive } from '../faults/fault-kit.js';
import { PROJECT_ROOT } from '../support/service-process.js';
import { waitFor } from '../support/wait-for.js';

const MODULE = path.join(PROJECT_ROOT, 'dist', 'src', 'database', 'embedded-postgres.server.js');

/**
 * A server that must not outlive the process that started it (a test run's, the benchmark's)
 * is stopped once that process is gone, also when it went without running an exit hook: killed
 * with SIGKILL, or by a signal it has no handler for, as `timeout` stops a test run.
 */
describe('the embedded PostgreSQL and the process that started it', () => {
  // What a test leaves if the guard fails it: servers stopped, directories removed, in any case.
  const leftovers: number[] = [];
  const starters: ChildProcess[] = [];
  const scratch: string[] = [];
  afterEach(async () => {
    for (const child of starters.splice(0)) child.kill('SIGKILL');
    for (const pid of leftovers.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGINT');
    for (const dataDir of scratch.splice(0)) {
      await waitFor(async () => !existsSync(path.join(dataDir, 'postmaster.pid')), 20_000, 100).catch(
        () => undefined,
      );
      for (const each of [dataDir, `${dataDir}.log`, `${dataDir}.owner`])
        await rm(each, { recursive: true, force: true });
    }
  });

  function scratchPath(): string {
    // In the temporary directory itself: reachable by the system user PostgreSQL runs as under root.
    const dataDir = path.join(os.tmpdir(), `tenancy-guard-${randomBytes(6).toString('hex')}`);
    scratch.push(dataDir);
    return dataDir;
  }

  it('stops a throw-away server, and removes its directory, when its process is killed with SIGKILL', async () => {
    const dataDir = scratchPath();
    const starter = await startInProcess(starters, dataDir, { persistent: false });
    leftovers.push(starter.serverPid);
    expect(isAlive(starter.serverPid)).toBe(true);

    starter.child.kill('SIGKILL');

    await waitFor(async () => !isAlive(starter.serverPid), 20_000, 100);
    await waitFor(async () => !existsSync(dataDir), 5_000, 100);
    expect(existsSync(`${dataDir}.log`)).toBe(false);
    expect(existsSync(`${dataDir}.owner`)).toBe(false);
    expect(watchersOf(dataDir)).toEqual([]);
  }, 60_000);

  it('stops a persistent server started to stop with its process, keeping its data, on an unhandled SIGTERM', async () => {
    const dataDir = scratchPath();
    const starter = await startInProcess(starters, dataDir, { persistent: true, stopWithProcess: true });
    leftovers.push(starter.serverPid);

    starter.child.kill('SIGTERM');

    await waitFor(async () => !isAlive(starter.serverPid), 20_000, 100);
    // Stopped in order (SIGINT), not killed: PostgreSQL removed its pid file on the way out.
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  }, 60_000);

  it('leaves a persistent server running when its process is killed, for the next start to adopt', async () => {
    const dataDir = scratchPath();
    const starter = await startInProcess(starters, dataDir, { persistent: true });
    leftovers.push(starter.serverPid);

    starter.child.kill('SIGKILL');
    await new Promise((resolve) => starter.child.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    expect(isAlive(starter.serverPid)).toBe(true);
    expect(watchersOf(dataDir)).toEqual([]);
  }, 60_000);

  it('leaves no watcher behind once the process has stopped the server itself', async () => {
    const dataDir = scratchPath();
    const server = await startEmbeddedPostgres({ dataDir, persistent: false });
    const serverPid = server.pid() as number;
    leftovers.push(serverPid);
    try {
      expect(watchersOf(dataDir)).toHaveLength(1);
    } finally {
      await server.stop();
    }

    await waitFor(async () => watchersOf(dataDir).length === 0, 5_000, 50);
    expect(isAlive(serverPid)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);
});

interface Starter {
  child: ChildProcess;
  serverPid: number;
}

/** Another node process that starts a server with these options (the built module), then idles. */
async function startInProcess(
  starters: ChildProcess[],
  dataDir: string,
  options: Record<string, boolean>,
): Promise<Starter> {
  const script = `
    import { startEmbeddedPostgres } from ${JSON.stringify(MODULE)};
    const server = await startEmbeddedPostgres({ dataDir: process.argv[1], ...JSON.parse(process.argv[2]) });
    console.log(server.pid());
    setInterval(() => undefined, 60_000);
  `;
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', script, dataDir, JSON.stringify(options)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  starters.push(child);
  const serverPid = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`the starting process exited with code ${code}`)));
  });
  return { child, serverPid };
}

/** The pids of the watchers (see server-guard.ts) running for this data directory. */
function watchersOf(dataDir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args.includes('server-guard') && args.includes(dataDir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("a test run's temporary directory", () => {
  it('is removed, with the servers in it, when the run is ended by a signal it has no handler for', async () => {
    // The run's set-up in a process of its own, which then writes a scratch file as a test would.
    const script = `
      import { writeFileSync } from 'node:fs';
      import os from 'node:os';
      import path from 'node:path';
      import { startTestPostgres, startedServers } from ${JSON.stringify(path.join(PROJECT_ROOT, 'test', 'support', 'start-test-postgres.ts'))};
      await startTestPostgres(1);
      writeFileSync(path.join(os.tmpdir(), 'scratch'), 'a test left this');
      console.log(JSON.stringify({ directory: os.tmpdir(), serverPid: startedServers()[0].pid() }));
      setInterval(() => undefined, 60_000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let started: { directory: string; serverPid: number } | undefined;
    try {
      started = await new Promise<{ directory: string; serverPid: number }>((resolve, reject) => {
        let out = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(JSON.parse(out.trim()) as { directory: string; serverPid: number });
        });
        child.once('exit', (code) => reject(new Error(`the set-up exited with code ${code}`)));
      });
      expect(started.directory.startsWith(path.join(os.tmpdir(), 'tenancy-test-run-'))).toBe(true);
      expect(existsSync(path.join(started.directory, 'scratch'))).toBe(true);

      child.kill('SIGTERM');

      await waitFor(async () => !isAlive(started!.serverPid), 20_000, 100);
      await waitFor(async () => !existsSync(started!.directory), 5_000, 100);
    } finally {
      child.kill('SIGKILL');
      if (started !== undefined) {
        if (isAlive(started.serverPid)) process.kill(started.serverPid, 'SIGKILL');
        await rm(started.directory, { recursive: true, force: true });
      }
    }
  }, 60_000);
});

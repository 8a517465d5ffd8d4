import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { listeningPortIn } from '../../src/app/listening-port.js';
import { call, PROCESS_OPERATOR_KEY, PROJECT_ROOT } from '../support/service-process.js';
import { runOnATerminal } from '../support/terminal.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import { useCleanups } from './fault-kit.js';

/**
 * The service's log goes to standard output, and standard output can fail: a file on a full disk,
 * a pipe nobody reads, a terminal that was closed. None may stop the service, hang it, or turn its
 * exit into a crash.
 */
describe('standard output that cannot be written', () => {
  const cleanup = useCleanups();
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());

  const serviceEnv = () => ({
    ...process.env,
    NODE_OPTIONS: '',
    PORT: '0',
    TENANCY_OPERATOR_KEY: PROCESS_OPERATOR_KEY,
    LOG_LEVEL: 'info',
    DATABASE_URL: database.url,
  });

  const exitOf = (child: ChildProcess): Promise<number | string> =>
    once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);

  const within = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([
      promise,
      new Promise<string>((resolve) => setTimeout(() => resolve(`still running after ${ms} ms`), ms).unref()),
    ]);

  /** The service with `stdout` as its standard output, once ready; its port is read off the process. */
  const startWithOutput = async (stdout: 'pipe' | number) => {
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: PROJECT_ROOT,
      env: serviceEnv(),
      stdio: ['ignore', stdout, 'pipe'],
    });
    const exited = exitOf(child);
    cleanup(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    let port: number | undefined;
    await waitFor(async () => (port = listeningPortOf(child.pid!)) !== undefined, 30_000);
    const service = { baseUrl: `http://127.0.0.1:${port}` };
    await waitFor(async () => (await call(service, 'GET', '/health/ready')).status === 200, 30_000);
    return { child, exited, service, stderr: () => stderr };
  };

  const writeErrors = async (service: { baseUrl: string }, code: string): Promise<number> => {
    const metrics = await (await fetch(`${service.baseUrl}/metrics`)).text();
    return Number(
      new RegExp(`^tenancy_log_write_errors_total\\{code="${code}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0,
    );
  };

  it('on a full disk (/dev/full): it starts and answers, counts the failed writes, and SIGTERM still exits 0', async () => {
    const full = openSync('/dev/full', 'w');
    const started = startWithOutput(full);
    closeSync(full);
    const { child, exited, service, stderr } = await started;
    expect((await call(service, 'POST', '/v1/tenants', { name: `Full ${randomUUID()}` })).status).toBe(201);
    expect(await writeErrors(service, 'ENOSPC')).toBeGreaterThan(0);
    // Said once, where it can still be read, and by readiness: serving, but not well.
    expect(stderr().match(/standard output cannot be written \(ENOSPC\)/g)).toHaveLength(1);
    const ready = await call(service, 'GET', '/health/ready');
    expect({ status: ready.status, body: ready.body.status }).toEqual({ status: 200, body: 'degraded' });
    expect(ready.body.details).toMatchObject({ logOutput: { status: 'degraded', error: 'ENOSPC' } });

    child.kill('SIGTERM');
    expect(await within(exited, 15_000)).toBe(0);
  }, 90_000);

  it('into a pipe its reader stopped reading: it answers on, counts the writes that cannot go through, and SIGTERM still exits 0', async () => {
    const { child, exited, service } = await startWithOutput('pipe');
    // Never read: once the pipe and this side's buffer are full, every write would have to wait.
    child.stdout!.pause();
    // About 300 bytes of log a request: far more than the pipe holds.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 400; i++) expect((await call(service, 'GET', '/health/live')).status).toBe(200);
      }),
    );
    await waitFor(async () => (await writeErrors(service, 'EAGAIN')) > 0, 15_000);

    child.kill('SIGTERM');
    expect(await within(exited, 15_000)).toBe(0);
  }, 90_000);

  it('into a pipe whose reader went away: it answers on, counts the lines it drops, and SIGTERM still exits 0', async () => {
    const { child, exited, service } = await startWithOutput('pipe');
    child.stdout!.destroy();
    // Every request logs a line: at least one write meets the closed pipe, and the rest are dropped.
    for (let i = 0; i < 50; i++) expect((await call(service, 'GET', '/health/live')).status).toBe(200);
    await waitFor(async () => (await writeErrors(service, 'EPIPE')) > 0, 15_000);
    for (let i = 0; i < 50; i++) expect((await call(service, 'GET', '/health/live')).status).toBe(200);
    const metrics = await (await fetch(`${service.baseUrl}/metrics`)).text();
    const dropped = Number(/^tenancy_log_lines_dropped_total (\d+)$/m.exec(metrics)?.[1]);
    expect(dropped).toBeGreaterThanOrEqual(50);

    child.kill('SIGTERM');
    expect(await within(exited, 15_000)).toBe(0);
  }, 90_000);

  it('on a terminal that is closed (SIGHUP, the terminal gone): it shuts down and exits 0, neither hung nor crashed', async () => {
    const terminal = runOnATerminal(process.execPath, ['dist/src/main.js'], serviceEnv());
    cleanup(async () => terminal.kill());
    let port: number | undefined;
    await waitFor(async () => (port = listeningPortIn(terminal.output())) !== undefined, 30_000);
    const service = { baseUrl: `http://127.0.0.1:${port}` };
    await waitFor(async () => (await call(service, 'GET', '/health/ready')).status === 200, 30_000);
    expect((await call(service, 'POST', '/v1/tenants', { name: `Closed ${randomUUID()}` })).status).toBe(201);

    terminal.close();
    expect(await within(terminal.exited, 15_000)).toBe(0);
  }, 90_000);
});

/** The TCP port a process listens on, from /proc: its sockets, and which of them listen. */
function listeningPortOf(pid: number): number | undefined {
  const sockets = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode !== undefined) sockets.add(inode);
    } catch {
      // Closed while listed.
    }
  }
  for (const table of ['/proc/net/tcp6', '/proc/net/tcp']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      // sl, local address:port (hex), remote, state (0A: listening), ..., inode (field 10).
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A' && sockets.has(fields[9] ?? '')) return parseInt(fields[1]!.split(':')[1]!, 16);
    }
  }
  return undefined;
}

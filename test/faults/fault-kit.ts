import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from '@jest/globals';
import { call, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Things a fault test starts (servers, services, directories), undone after the file's tests in
 * reverse order, whether the tests passed or not. Call at the top of a describe block.
 */
export function useCleanups(): (cleanup: () => Promise<unknown>) => void {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
}

/**
 * A fresh directory path under the temp directory, removed afterwards with the server log a
 * persistent embedded PostgreSQL keeps beside it. Not mkdtemp: its 0700 directory would shut out
 * the system user PostgreSQL runs as under root.
 */
export function scratchDir(cleanup: (cleanup: () => Promise<unknown>) => void, prefix: string): string {
  const directory = path.join(os.tmpdir(), `${prefix}-${randomBytes(6).toString('hex')}`);
  cleanup(async () => {
    await rm(directory, { recursive: true, force: true });
    await rm(`${directory}.log`, { force: true });
  });
  return directory;
}

/** The CPU time (user and system) a process of this machine has used so far, in seconds. */
export function cpuSecondsOf(pid: number): number {
  // After the command's closing parenthesis: state is field 3, utime and stime fields 14 and 15,
  // in clock ticks of 1/100 s (Linux's USER_HZ).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Whether a process runs (one of another user, such as the postgres user's server, included). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The server running on a PostgreSQL data directory, from the pid file it keeps there. */
export function postmaster(dataDir: string): { pid: number; port: number } {
  const lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

export interface EmbeddedService {
  /** TENANCY_DATA_DIR of the service, a scratch directory. */
  readonly dataRoot: string;
  /** Its embedded PostgreSQL's data directory. */
  readonly dataDir: string;
  /** The service's environment: no DATABASE_URL, that data directory; for more services on it. */
  readonly env: Record<string, string>;
  readonly service: ServiceProcess;
}

/** A service on an embedded PostgreSQL of its own, in a scratch directory; stopped after the tests. */
export async function startOnEmbeddedPostgres(
  cleanup: (cleanup: () => Promise<unknown>) => void,
  prefix = 'tenancy-fault',
): Promise<EmbeddedService> {
  const dataRoot = scratchDir(cleanup, prefix);
  const env = { DATABASE_URL: '', TENANCY_DATA_DIR: dataRoot };
  const service = await startServiceProcess({ env });
  cleanup(() => service.stop());
  return { dataRoot, dataDir: path.join(dataRoot, 'postgres'), env, service };
}

export interface ServiceWithTenant {
  database: TestDatabase;
  service: ServiceProcess;
  tenantId: string;
}

/**
 * The service as a process on a database of its own, with one tenant, for the tests of a describe
 * block (filled in before they run); stopped and dropped after them. Call at the top of the block.
 */
export function useServiceWithTenant(label: string): ServiceWithTenant {
  const env = {} as ServiceWithTenant;
  beforeAll(async () => {
    env.database = await createTestDatabase();
    env.service = await startServiceProcess({ env: { DATABASE_URL: env.database.url } });
    const created = await call(env.service, 'POST', '/v1/tenants', { name: `${label} ${randomUUID()}` });
    expect(created.status).toBe(201);
    env.tenantId = String(created.body.tenantId);
  }, 90_000);
  afterAll(async () => {
    await env.service?.stop();
    await env.database?.drop();
  });
  return env;
}

type Answer = Awaited<ReturnType<typeof call>>;

/**
 * Sends a write again while it answers 503 (the database away for now), for 10 s at most; resolves
 * with the last answer, whatever it is, for the test to check.
 */
export async function writeUntilTaken(
  service: ServiceProcess,
  route: string,
  body: Record<string, unknown>,
): Promise<Answer> {
  let answer = await call(service, 'POST', route, body);
  await waitFor(async () => {
    if (answer.status === 503) answer = await call(service, 'POST', route, body);
    return answer.status !== 503;
  }, 10_000).catch(() => undefined);
  return answer;
}

/**
 * Readiness's answer once its status is ok, or the last one after 10 s: an expect on its body then
 * shows which check is not.
 */
export async function readinessOnceOk(service: ServiceProcess): Promise<Answer> {
  let ready = await call(service, 'GET', '/health/ready');
  await waitFor(async () => {
    ready = await call(service, 'GET', '/health/ready');
    return ready.body.status === 'ok';
  }, 10_000).catch(() => undefined);
  return ready;
}

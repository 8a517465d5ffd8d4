import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  call,
  PROCESS_OPERATOR_KEY,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

interface Outcome {
  readonly startedAt: number;
  readonly status: number | string;
}

/** A supervisor stops the service with SIGTERM: it must drain, not drop, and leave nothing behind. */
describe('SIGTERM under load', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  const isAlive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  };

  /** `clients` writers creating workspaces, recording when each request started and how it ended. */
  const writeUntil = (service: ServiceProcess, tenantId: string, clients: number, done: () => boolean) => {
    const outcomes: Outcome[] = [];
    const writers = Array.from({ length: clients }, async () => {
      while (!done()) {
        const startedAt = Date.now();
        try {
          const response = await call(service, 'POST', `/v1/tenants/${tenantId}/workspaces`, {
            workspaceId: randomUUID(),
            name: `w-${randomUUID()}`,
          });
          outcomes.push({ startedAt, status: response.status });
        } catch (error) {
          const cause = (error as { cause?: { code?: string } }).cause;
          outcomes.push({ startedAt, status: cause?.code ?? 'network error' });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    });
    return { outcomes, finished: Promise.all(writers) };
  };

  /** Every request sent before the signal was answered, and none with a server error. */
  const expectAllAnswered = (outcomes: readonly Outcome[], signalledAt: number): void => {
    const before = outcomes.filter((outcome) => outcome.startedAt < signalledAt);
    expect(before.length).toBeGreaterThan(16);
    expect(before.filter((outcome) => typeof outcome.status !== 'number' || outcome.status >= 500)).toEqual(
      [],
    );
  };

  it('`npm start` (the README command) with the embedded PostgreSQL: every request answered, exit 0 within 10 s, no process left', async () => {
    const dataRoot = path.join(os.tmpdir(), `tenancy-shutdown-${randomBytes(6).toString('hex')}`);
    cleanups.push(() => rm(dataRoot, { recursive: true, force: true }));
    const service = await startServiceProcess({
      command: 'npm-start',
      env: { DATABASE_URL: '', TENANCY_DATA_DIR: dataRoot },
      readyTimeoutMs: 120_000,
    });
    cleanups.push(() => service.stop());
    const npmPid = service.child.pid!;
    const nodePid = Number(execFileSync('pgrep', ['-P', String(npmPid)], { encoding: 'utf8' }).trim());
    const postgresPid = Number(
      readFileSync(path.join(dataRoot, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    expect(isAlive(nodePid) && isAlive(postgresPid)).toBe(true);
    // Should the test fail, nothing it started outlives it.
    cleanups.push(async () => {
      for (const pid of [nodePid, postgresPid]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    });

    const tenant = await call(service, 'POST', '/v1/tenants', { name: `Shutdown ${randomUUID()}` });
    let stopping = false;
    const load = writeUntil(service, String(tenant.body.tenantId), 16, () => stopping);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const signalledAt = Date.now();
    process.kill(npmPid, 'SIGTERM');
    const how = await Promise.race([
      service.exited,
      new Promise((resolve) => setTimeout(() => resolve('still running after 10 s'), 10_000)),
    ]);
    const tookMs = Date.now() - signalledAt;
    stopping = true;
    await load.finished;

    expect(how).toBe(0);
    expect(tookMs).toBeLessThan(10_000);
    expectAllAnswered(load.outcomes, signalledAt);
    expect(isAlive(nodePid)).toBe(false);
    expect(isAlive(postgresPid)).toBe(false);
    const log = service.output();
    for (const step of [
      /SIGTERM: shutting down/,
      /requests in flight finished/,
      /consumers stopped/,
      /embedded PostgreSQL stopped/,
    ]) {
      expect(log).toMatch(step);
    }
  }, 180_000);

  describe('with DATABASE_URL', () => {
    let database: TestDatabase;
    afterAll(async () => database?.drop());

    it('an open event stream ends cleanly, writes drain, and the process exits 0', async () => {
      database = await createTestDatabase();
      const service = await startServiceProcess({ env: { DATABASE_URL: database.url } });
      cleanups.push(() => service.stop());
      const tenant = await call(service, 'POST', '/v1/tenants', { name: `Drain ${randomUUID()}` });
      const streamEnded = new Promise<string>((resolve) => {
        const request = http.get(
          `${service.baseUrl}/v1/events/stream?from=start`,
          { headers: { Authorization: `Bearer ${PROCESS_OPERATOR_KEY}` } },
          (response) => {
            response.resume();
            response.on('end', () => resolve('ended'));
            response.on('error', (error) => resolve(`error: ${error.message}`));
          },
        );
        request.on('error', (error) => resolve(`error: ${error.message}`));
      });
      let stopping = false;
      const load = writeUntil(service, String(tenant.body.tenantId), 16, () => stopping);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const signalledAt = Date.now();
      service.child.kill('SIGTERM');
      const how = await service.exited;
      stopping = true;
      await load.finished;
      expect(how).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(10_000);
      expect(await streamEnded).toBe('ended');
      expectAllAnswered(load.outcomes, signalledAt);
    }, 60_000);
  });
});

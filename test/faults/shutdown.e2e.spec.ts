import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  call,
  PROCESS_OPERATOR_KEY,
  spawnServiceProcess,
  startServiceProcess,
  type ServiceProcess,
  type SpawnedService,
} from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import {
  cpuSecondsOf,
  isAlive,
  postmaster,
  scratchDir,
  startOnEmbeddedPostgres,
  useCleanups,
} from './fault-kit.js';

interface Outcome {
  readonly correlationId: string;
  readonly startedAt: number;
  readonly status: number | string;
}

/** A supervisor stops the service with SIGTERM: it must drain, not drop, and leave nothing behind. */
describe('SIGTERM under load', () => {
  const cleanup = useCleanups();

  /** `clients` writers creating workspaces, recording when each request started and how it ended. */
  const writeUntil = (service: ServiceProcess, tenantId: string, clients: number, done: () => boolean) => {
    const outcomes: Outcome[] = [];
    const writers = Array.from({ length: clients }, async () => {
      while (!done()) {
        const startedAt = Date.now();
        const correlationId = randomUUID();
        try {
          const response = await call(
            service,
            'POST',
            `/v1/tenants/${tenantId}/workspaces`,
            { workspaceId: randomUUID(), name: `w-${randomUUID()}` },
            { 'X-Correlation-Id': correlationId },
          );
          outcomes.push({ correlationId, startedAt, status: response.status });
        } catch (error) {
          const cause = (error as { cause?: { code?: string } }).cause;
          outcomes.push({ correlationId, startedAt, status: cause?.code ?? 'network error' });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    });
    return { outcomes, finished: Promise.all(writers) };
  };

  /**
   * Every request the service accepted was answered, and none with a server error. A request the
   * client began before the signal but whose bytes reached the service only after it stopped
   * accepting was not accepted: the service's request log (a line for every request it received,
   * with its correlation id) tells the two apart.
   */
  const expectAllAnswered = (service: ServiceProcess, outcomes: readonly Outcome[], signalledAt: number) => {
    const before = outcomes.filter((outcome) => outcome.startedAt < signalledAt);
    expect(before.length).toBeGreaterThan(16);
    expect(before.filter((outcome) => typeof outcome.status === 'number' && outcome.status >= 500)).toEqual(
      [],
    );
    const log = service.output();
    const unanswered = outcomes.filter((outcome) => typeof outcome.status !== 'number');
    expect(unanswered.filter((outcome) => log.includes(outcome.correlationId))).toEqual([]);
    expect(unanswered.filter((outcome) => outcome.startedAt < signalledAt - 1_000)).toEqual([]);
  };

  it('`npm start` (the README command) with the embedded PostgreSQL: every request answered, exit 0 within 10 s, no process left', async () => {
    const dataRoot = scratchDir(cleanup, 'tenancy-shutdown');
    const service = await startServiceProcess({
      command: 'npm-start',
      env: { DATABASE_URL: '', TENANCY_DATA_DIR: dataRoot },
      readyTimeoutMs: 120_000,
    });
    cleanup(() => service.stop());
    const npmPid = service.child.pid!;
    const nodePid = Number(execFileSync('pgrep', ['-P', String(npmPid)], { encoding: 'utf8' }).trim());
    const postgresPid = Number(
      readFileSync(path.join(dataRoot, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    expect(isAlive(nodePid) && isAlive(postgresPid)).toBe(true);
    // Should the test fail, nothing it started outlives it.
    cleanup(async () => {
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
    expectAllAnswered(service, load.outcomes, signalledAt);
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

  it('SIGHUP (its terminal closed) stops it as SIGTERM does: every request answered, exit 0, its embedded PostgreSQL stopped', async () => {
    const { dataDir, service } = await startOnEmbeddedPostgres(cleanup, 'tenancy-shutdown');
    const server = postmaster(dataDir);
    cleanup(async () => {
      if (isAlive(server.pid)) process.kill(server.pid, 'SIGKILL');
    });
    const tenant = await call(service, 'POST', '/v1/tenants', { name: `Hang-up ${randomUUID()}` });
    let stopping = false;
    const load = writeUntil(service, String(tenant.body.tenantId), 16, () => stopping);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const signalledAt = Date.now();
    service.child.kill('SIGHUP');
    const how = await Promise.race([
      service.exited,
      new Promise((resolve) => setTimeout(() => resolve('still running after 10 s'), 10_000)),
    ]);
    stopping = true;
    await load.finished;

    expect(how).toBe(0);
    expectAllAnswered(service, load.outcomes, signalledAt);
    expect(service.output()).toMatch(/SIGHUP: shutting down/);
    expect(isAlive(server.pid)).toBe(false);
  }, 120_000);

  describe('with DATABASE_URL', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(async () => database?.drop());

    it('an open event stream ends cleanly, writes drain, and the process exits 0', async () => {
      const service = await startServiceProcess({ env: { DATABASE_URL: database.url } });
      cleanup(() => service.stop());
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
      expectAllAnswered(service, load.outcomes, signalledAt);
    }, 60_000);

    it('with TENANCY_SHUTDOWN_DELAY_MS, a stop signal first takes it out of readiness while it still serves, each answer closing its connection, then it drains and exits 0', async () => {
      const service = await startServiceProcess({
        env: { DATABASE_URL: database.url, TENANCY_SHUTDOWN_DELAY_MS: '5000' },
      });
      cleanup(() => service.stop());
      const tenant = await call(service, 'POST', '/v1/tenants', { name: `Delay ${randomUUID()}` });
      /** A write over a keep-alive connection: its status and the Connection header it was answered with. */
      const write = () =>
        new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
          const request = http.request(
            `${service.baseUrl}/v1/tenants/${String(tenant.body.tenantId)}/workspaces`,
            {
              method: 'POST',
              agent: new http.Agent({ keepAlive: true }),
              headers: {
                Authorization: `Bearer ${PROCESS_OPERATOR_KEY}`,
                'Content-Type': 'application/json',
              },
            },
            (response) => {
              response.resume();
              response.on('end', () =>
                resolve({ status: response.statusCode ?? 0, connection: response.headers.connection }),
              );
            },
          );
          request.on('error', reject);
          request.end(JSON.stringify({ name: `w-${randomUUID()}` }));
        });
      expect(await write()).toEqual({ status: 201, connection: 'keep-alive' });

      const signalledAt = Date.now();
      service.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The load balancer sees it going and stops sending; what it still sends is served.
      const ready = await call(service, 'GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({
        status: 'error',
        error: { shutdown: { status: 'down', message: expect.stringMatching(/SIGTERM.*5 s/) } },
      });
      expect((await call(service, 'GET', '/health/live')).status).toBe(200);
      expect(await write()).toEqual({ status: 201, connection: 'close' });
      expect(Date.now() - signalledAt).toBeLessThan(5_000);

      expect(await service.exited).toBe(0);
      expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(5_000);
      expect(service.output()).toMatch(/SIGTERM: shutting down in 5000 ms/);
    }, 60_000);

    it('Ctrl-C (SIGINT) is a person at a terminal, not a supervisor: it stops at once whatever TENANCY_SHUTDOWN_DELAY_MS says', async () => {
      const service = await startServiceProcess({
        env: { DATABASE_URL: database.url, TENANCY_SHUTDOWN_DELAY_MS: '20000' },
      });
      cleanup(() => service.stop());
      const signalledAt = Date.now();
      service.child.kill('SIGINT');
      expect(await service.exited).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(10_000);
      expect(service.output()).not.toMatch(/shutting down in/);
    }, 60_000);

    /** Opens a stream from a write's position, leaves it idle, then stops the service with SIGTERM. */
    const streamPastTheHeadThenStop = async (service: ServiceProcess) => {
      const written = await call(service, 'POST', '/v1/tenants', { name: `Past ${randomUUID()}` });
      expect(written.status).toBe(201);
      const opened = new Promise<number>((resolve) => {
        const request = http.get(
          `${service.baseUrl}/v1/events/stream?from=${String(written.body.position)}`,
          { headers: { Authorization: `Bearer ${PROCESS_OPERATOR_KEY}` } },
          (response) => {
            resolve(response.statusCode ?? 0);
            // The client goes away; the service must not keep working for it.
            setTimeout(() => request.destroy(), 300);
          },
        );
        request.on('error', () => undefined);
      });
      expect(await opened).toBe(200);
      const cpuBefore = cpuSecondsOf(service.child.pid!);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      // Idle: no reading of the same end over and over.
      expect(cpuSecondsOf(service.child.pid!) - cpuBefore).toBeLessThan(0.5);
      const signalledAt = Date.now();
      service.child.kill('SIGTERM');
      const how = await Promise.race([
        service.exited,
        new Promise<string>((resolve) =>
          setTimeout(() => resolve('still running after 15 s'), 15_000).unref(),
        ),
      ]);
      expect(how).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(10_000);
    };

    it("an event stream opened past the log's readable end (a write's position, behind a transaction held open) waits idle, and SIGTERM still exits 0", async () => {
      const service = await startServiceProcess({ env: { DATABASE_URL: database.url } });
      cleanup(() => service.stop());
      // A transaction that holds an id keeps every later commit out of the readers' reach: the
      // next write's position lies after the head they read, though a write answered it.
      const holder = new pg.Client({ connectionString: database.url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT pg_current_xact_id()');
        await streamPastTheHeadThenStop(service);
      } finally {
        await holder.end();
      }
    }, 60_000);
  });

  /**
   * A stop asked for while the service is still starting (its embedded PostgreSQL being set up or
   * started, migrations waiting on a lock) ends the start at once, and what the start had brought
   * up goes with it: a supervisor's SIGTERM or a Ctrl-C must not leave a server running.
   */
  describe('a signal before the service is up', () => {
    const exitsWithin = (service: SpawnedService, ms: number) =>
      Promise.race([
        service.exited,
        new Promise<string>((resolve) =>
          setTimeout(() => resolve(`still running after ${ms} ms`), ms).unref(),
        ),
      ]);
    const killWithTheTest = (service: SpawnedService, dataDir: string) =>
      cleanup(async () => {
        if (!service.hasExited()) service.child.kill('SIGKILL');
        if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
          const { pid } = postmaster(dataDir);
          if (isAlive(pid)) process.kill(pid, 'SIGKILL');
        }
      });

    it.each([
      ['SIGTERM', 143],
      ['SIGHUP', 129],
    ] as const)(
      "%s while the embedded PostgreSQL is first set up: exit %d, neither initdb's password file nor a server left",
      async (signal, code) => {
        const dataRoot = scratchDir(cleanup, 'tenancy-early-stop');
        const tmpDir = scratchDir(cleanup, 'tenancy-early-stop-tmp');
        mkdirSync(tmpDir);
        const dataDir = path.join(dataRoot, 'postgres');
        const service = spawnServiceProcess({
          env: { DATABASE_URL: '', TENANCY_DATA_DIR: dataRoot, TMPDIR: tmpDir },
        });
        killWithTheTest(service, dataDir);
        const initialising = () => readdirSync(tmpDir).filter((name) => name.startsWith('tenancy-pg-init-'));
        await waitFor(async () => initialising().length > 0 || service.hasExited(), 60_000, 5);
        service.child.kill(signal);

        expect(await exitsWithin(service, 15_000)).toBe(code);
        expect(initialising()).toEqual([]);
        await waitFor(async () => !existsSync(path.join(dataDir, 'postmaster.pid')), 15_000);
        expect(service.output()).toContain(`${signal} before the service was up: exiting (${code})`);
      },
      120_000,
    );

    it('SIGTERM while its migrations wait on a lock: exit 143, and the embedded PostgreSQL it adopted stops', async () => {
      // A server left running by a killed service, for the next one to adopt.
      const { dataDir, env, service: first } = await startOnEmbeddedPostgres(cleanup, 'tenancy-early-stop');
      const orphan = postmaster(dataDir);
      first.child.kill('SIGKILL');
      await first.exited;
      const holder = new pg.Client({
        connectionString: `postgres://postgres:postgres@127.0.0.1:${orphan.port}/tenancy`,
      });
      holder.on('error', () => undefined);
      await holder.connect();
      cleanup(() => holder.end());
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE');

      const second = spawnServiceProcess({ env });
      killWithTheTest(second, dataDir);
      await waitFor(async () => {
        const { rows } = await holder.query<{ waiting: number }>(
          "SELECT count(*)::int AS waiting FROM pg_locks WHERE NOT granted AND relation = 'schema_migrations'::regclass",
        );
        return rows[0]!.waiting > 0 || second.hasExited();
      }, 60_000);
      expect(second.output()).toMatch(/adopting the PostgreSQL left running/);
      second.child.kill('SIGTERM');

      expect(await exitsWithin(second, 15_000)).toBe(143);
      await waitFor(async () => !isAlive(orphan.pid), 15_000);
      expect(second.output()).toMatch(/SIGTERM before the service was up: exiting/);
      expect(second.output()).not.toMatch(/listening on port/);
    }, 120_000);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { CpuClock, cpuPerOperation, cpuUsedBetween } from '../../bench/lib/cpu-time.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The benchmark's CPU accounting (bench/lib/cpu-time.ts), which its rebuild scenario reports to say
 * whether the cores were the limit: work done by the server is counted as the server's, work done
 * here as this process's.
 */
describe('the benchmark CPU clock', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database.drop();
  });

  it('counts a query the server works on as server CPU, not as this process', async () => {
    const clock = await CpuClock.forServerOf(database.pool);
    const { rows } = await database.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const serverIsHere = existsSync(`/proc/${rows[0]?.pid}/stat`);
    const before = clock.read();
    // About half a second of one backend's CPU, and hardly any of this process's.
    await database.pool.query(
      `SELECT count(*) FROM generate_series(1, 3000000) i WHERE md5(i::text) LIKE 'a%'`,
    );
    const used = cpuUsedBetween(before, clock.read());
    if (serverIsHere) {
      expect(used.serverSeconds).toBeGreaterThan(0.2);
      expect(used.processSeconds).toBeLessThan((used.serverSeconds ?? 0) / 2);
    } else {
      // A server on another machine is not counted rather than counted wrong.
      expect(used.serverSeconds).toBeUndefined();
    }
    expect(used.machineCoresBusy).toBeGreaterThan(0);
  });

  it("counts this process's own work as its CPU", async () => {
    const clock = await CpuClock.forServerOf(database.pool);
    const before = clock.read();
    // 300 ms of this process's CPU as Node counts it, however long a busy machine takes to give it.
    const start = process.cpuUsage();
    let spins = 0;
    while (process.cpuUsage(start).user < 300_000) spins += 1;
    const used = cpuUsedBetween(before, clock.read());
    expect(spins).toBeGreaterThan(0);
    expect(used.processSeconds).toBeGreaterThan(0.2);
    expect(used.serverSeconds ?? 0).toBeLessThan(used.processSeconds);
  });

  it('counts another process it is told of by pid, as much as that process says it used', async () => {
    // Spins for 400 ms of its own CPU once told to, prints the CPU seconds the spin took by its own
    // count, then idles until it is ended.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `process.stdin.once('data', () => {
           const start = process.cpuUsage();
           while (process.cpuUsage(start).user < 400000);
           const used = process.cpuUsage(start);
           console.log(String((used.user + used.system) / 1e6));
         })`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      const clock = await CpuClock.forServerOf(database.pool, { spinner: child.pid as number });
      const before = clock.read();
      child.stdin.write('go\n');
      const [said] = (await once(child.stdout, 'data')) as [Buffer];
      const used = cpuUsedBetween(before, clock.read());
      const reported = Number(said.toString('utf8').trim());
      expect(reported).toBeGreaterThanOrEqual(0.4);
      // Its CPU, not this process's: what it says it spun, to the kernel's 10 ms ticks, plus what
      // reading its stdin and writing its answer took. (This process's own CPU in the window says
      // nothing here: a busy test run has it collecting garbage or compiling at any time.)
      expect(used.othersSeconds.spinner).toBeGreaterThanOrEqual(reported - 0.03);
      expect(used.othersSeconds.spinner).toBeLessThan(reported + 0.15);
    } finally {
      child.kill();
    }
  });

  it("divides a window's CPU by the operations done in it, per process, as the commands scenarios report it", () => {
    const per = cpuPerOperation(
      {
        seconds: 15,
        processSeconds: 3,
        serverSeconds: 8,
        othersSeconds: { service: 11.5 },
        machineCoresBusy: 1.56,
        stealShare: 0,
        cores: 2,
      },
      2_000,
      'command',
    );
    expect(per.metrics).toEqual({
      serviceCpuMsPerCommand: 5.75,
      postgresCpuMsPerCommand: 4,
      benchCpuMsPerCommand: 1.5,
    });
    expect(per.note).toBe(
      "CPU per command over 15.0 s (from /proc): the service 5.75 ms, PostgreSQL 4.00 ms, the benchmark's process 1.50 ms; the machine's 2 cores 1.56 busy on average",
    );
    // A server on another machine is not counted: no PostgreSQL figure rather than a wrong one.
    const remote = cpuPerOperation(
      { seconds: 1, processSeconds: 1, othersSeconds: {}, cores: 2 },
      10,
      'check',
    );
    expect(remote.metrics).toEqual({ benchCpuMsPerCheck: 100 });
  });
});

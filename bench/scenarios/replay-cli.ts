import { spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../lib/service.js';
import { round } from '../lib/stats.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';
import { rebuildLog } from './rebuild.js';

const EVENTS_PER_TENANT = 1_000;

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** Runs the compiled CLI as a user does (`npx tenancy`), against the given database. */
function runCli(args: readonly string[], databaseUrl: string): Promise<Finished> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'tenancy.js'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, EVENTSTORE_URL: '', NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 }),
    );
  });
}

export const replayCliScenario: Scenario = {
  id: 'replay-cli',
  description:
    "`tenancy replay` of the rebuild scenario's 1,000,000-event log as a process (node bin/tenancy.js, compiled), swap into the live schema included",
  target: { text: '<= 40 s', checks: [{ metric: 'figure', op: '<=', value: 40 }] },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    const log = await rebuildLog(ctx, size);
    const run = await runCli(['replay'], log.url);
    const { rows } = await log.pool.query<{ tenants: number; workspaces: number; audit: number }>(
      `SELECT (SELECT count(*) FROM read_model.tenants)::int AS tenants,
              (SELECT count(*) FROM read_model.workspaces)::int AS workspaces,
              (SELECT count(*) FROM read_model.audit_log)::int AS audit`,
    );
    const counts = rows[0] ?? { tenants: 0, workspaces: 0, audit: 0 };
    const tenantEvents = log.seeded.tenants * EVENTS_PER_TENANT;
    const notes = [
      `${log.events} events in the log (${tenantEvents} in tenant streams), seeded once for this and the rebuild scenario; no service runs on that database`,
      `exit ${String(run.code)} after ${round(run.seconds, 1)} s: ${run.stdout.trim().split('\n').join('; ')}`,
      `${round(tenantEvents / run.seconds, 0)} tenant events/s over the whole command (start-up, counting the events for the progress bar, replay, finishing the tables, swap)`,
    ];
    if (run.code !== 0) notes.push(`stderr: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return {
      figure: round(run.seconds, 1),
      unit: 's',
      metrics: { seconds: round(run.seconds, 1), eventsPerSecond: round(tenantEvents / run.seconds, 0) },
      verified: {
        exitCode: run.code ?? 'signal',
        tenantRows: counts.tenants,
        workspaceRows: counts.workspaces,
        auditRows: counts.audit,
      },
      verifiedOk:
        run.code === 0 &&
        counts.tenants === log.seeded.tenants &&
        counts.workspaces === log.seeded.workspaces &&
        counts.audit === tenantEvents,
      notes,
    };
  },
};

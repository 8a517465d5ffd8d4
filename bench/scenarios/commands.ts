import { CpuClock, cpuPerOperation, cpuUsedBetween, type CpuReading } from '../lib/cpu-time.js';
import { round } from '../lib/stats.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';
import {
  COMMAND_CLIENTS,
  COMMAND_TENANTS,
  commandTenants,
  countCreatedEvents,
  runCommandsLoad,
} from '../lib/workload.js';
import { measureInsertCeiling } from './append.js';

/** What the memory scenario reads: the service's RSS while the commands load ran. */
export interface CommandsMemory {
  readonly windowPeakMb: number;
  readonly hwmMb: number;
  readonly samples: number;
}

export const COMMANDS_MEMORY_KEY = 'commandsMemory';

export const commandsScenario: Scenario = {
  id: 'commands',
  description: 'CreateWorkspace over HTTP, 16 concurrent keep-alive clients over 100 tenants, full stack',
  target: {
    text: '>= 1,500 commands/s, p99 <= 25 ms',
    checks: [
      { metric: 'figure', op: '>=', value: 1500 },
      { metric: 'p99Ms', op: '<=', value: 25 },
    ],
  },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    const durationMs = size === 'quick' ? 3_000 : 20_000;
    const warmupMs = size === 'quick' ? 1_000 : 3_000;
    const ceiling = await measureInsertCeiling(ctx, size === 'quick' ? 1_500 : 5_000);
    const tenants = await commandTenants(ctx);
    const namePrefix = `cmd-${ctx.runTag}`;

    const cpu = await CpuClock.forServerOf(ctx.pool, { service: ctx.service.pid });
    let cpuAtWindow: CpuReading | undefined;
    const started = performance.now();
    const load = await runCommandsLoad(ctx, {
      tenants,
      durationMs,
      warmupMs,
      namePrefix,
      onWindowStart: () => (cpuAtWindow = cpu.read()),
    });
    const finished = performance.now();
    const perCommand =
      cpuAtWindow && cpuPerOperation(cpuUsedBetween(cpuAtWindow, cpu.read()), load.requests, 'command');
    const window = ctx.rss.peakBetween(started, finished);
    const hwm = ctx.rss.now()?.hwmMb;
    if (hwm !== undefined) {
      ctx.shared.set(COMMANDS_MEMORY_KEY, {
        windowPeakMb: window.peakMb,
        hwmMb: hwm,
        samples: window.samples,
      } satisfies CommandsMemory);
    }

    const created = load.statuses['201'] ?? 0;
    const events = await countCreatedEvents(ctx, namePrefix);
    const notes = [
      `${COMMAND_CLIENTS} clients, ${COMMAND_TENANTS} tenants, ${durationMs / 1000} s measured after ${warmupMs / 1000} s warm-up; the load generator runs on the same 2 cores as the service and PostgreSQL`,
      `ceiling: raw single-row INSERT commits/s at 8 connections (append scenario's ceiling, same run)`,
      ...(perCommand ? [perCommand.note] : []),
    ];
    if (load.failures > 0) notes.push(`${load.failures} failed requests, e.g. ${load.failureSamples[0]}`);
    return {
      figure: round(load.perSecond, 0),
      unit: 'commands/s',
      ceiling: round(ceiling.perSecond, 0),
      ceilingUnit: 'INSERT commits/s',
      ratio: round(load.perSecond / ceiling.perSecond, 3),
      metrics: {
        p50Ms: round(load.latency.p50),
        p95Ms: round(load.latency.p95),
        p99Ms: round(load.latency.p99),
        maxMs: round(load.latency.max),
        requests: load.requests,
        ...perCommand?.metrics,
      },
      verified: { responses201: created, workspaceCreatedEvents: events, failures: load.failures },
      verifiedOk: created === load.requests && events === created,
      notes,
    };
  },
};

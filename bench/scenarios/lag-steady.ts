import { randomUUID } from 'node:crypto';
import { BackgroundWorkWatch } from '../lib/background-work-watch.js';
import {
  CpuClock,
  cpuPerOperation,
  cpuUsedBetween,
  type CpuPerOperation,
  type CpuReading,
} from '../lib/cpu-time.js';
import { deliveryBreakdown, deliverySnapshot } from '../lib/delivery-breakdown.js';
import { ReadModelWatcher, WATCHER_NOTE } from '../lib/read-model-watcher.js';
import { describeTail, round, sleep, summarize } from '../lib/stats.js';
import { probeReadModel } from '../lib/tenancy.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';
import { commandTenants } from '../lib/workload.js';

const RATE_PER_SECOND = 200;
const GRACE_MS = 10_000;

export const lagSteadyScenario: Scenario = {
  id: 'lag-steady',
  description: `time from a CreateWorkspace 201 to its row in read_model.workspaces, at a steady ${RATE_PER_SECOND} commands/s (open loop, 100 tenants)`,
  target: { text: 'p99 <= 10 ms', checks: [{ metric: 'figure', op: '<=', value: 10 }] },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    const probe = await probeReadModel(ctx);
    if (!probe.available) return { notRun: probe.reason ?? 'read model not available' };
    const tenants = await commandTenants(ctx);
    const durationMs = size === 'quick' ? 3_000 : 15_000;
    const warmupMs = 1_000;
    const intervalMs = 1000 / RATE_PER_SECOND;
    const pool = ctx.http.dedicatedPool(32);
    const watcher = new ReadModelWatcher(ctx);
    await watcher.start();
    const cpu = await CpuClock.forServerOf(ctx.pool, { service: ctx.service.pid });
    // Whether autovacuum or a checkpoint shared the machine with the service and PostgreSQL's
    // sessions while the lag was measured: in a full run, the scenarios before this one have grown
    // the log and read models.
    const background = new BackgroundWorkWatch(ctx.pool);
    let backgroundSeen = '';
    let windowStart = performance.now();
    let cpuAtWindow: CpuReading | undefined;
    let perCommand: CpuPerOperation | undefined;
    const latencies: number[] = [];
    let sent = 0;
    let created = 0;
    let failures = 0;
    let lateStarts = 0;
    const failureSamples: string[] = [];
    const inFlight = new Set<Promise<void>>();
    let before;
    let unseen: number;
    const started = performance.now();
    try {
      // Open loop: request n leaves at started + n * interval whatever the answers before it do.
      for (let n = 0; ; n++) {
        const due = started + n * intervalMs;
        if (due - started >= warmupMs + durationMs) break;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        else if (wait < -intervalMs) lateStarts++;
        const measured = due - started >= warmupMs;
        if (measured && before === undefined) {
          before = await deliverySnapshot(ctx);
          cpuAtWindow = cpu.read();
          windowStart = performance.now();
          background.start();
        }
        const tenantId = tenants[n % tenants.length] as string;
        const request = ctx.http
          .send(
            {
              method: 'POST',
              path: `/v1/tenants/${tenantId}/workspaces`,
              body: { name: `steady-${ctx.runTag}-${n}`, workspaceId: randomUUID() },
            },
            pool,
          )
          .then((answer) => {
            if (!measured) return;
            sent++;
            latencies.push(answer.ms);
            if (answer.status !== 201) {
              failures++;
              if (failureSamples.length < 3)
                failureSamples.push(`${answer.status} ${JSON.stringify(answer.body)}`);
              return;
            }
            created++;
            const body = answer.body as { tenantId: string; workspaceId: string };
            watcher.watch({ tenantId: body.tenantId, workspaceId: body.workspaceId, at: performance.now() });
          })
          .catch((error: unknown) => {
            failures++;
            if (failureSamples.length < 3) failureSamples.push(String(error));
          })
          .finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      await Promise.all(inFlight);
      if (cpuAtWindow) perCommand = cpuPerOperation(cpuUsedBetween(cpuAtWindow, cpu.read()), sent, 'command');
    } finally {
      backgroundSeen = await background.stop(windowStart);
      unseen = await watcher.stop(GRACE_MS);
      await pool.close();
    }
    const breakdown = deliveryBreakdown(before ?? new Map(), await deliverySnapshot(ctx));
    const lags = watcher.lags;
    const samples = [...lags, ...Array.from({ length: unseen }, () => GRACE_MS)];
    const summary = summarize(samples);
    const http = summarize(latencies);
    const notes = [
      `${sent} CreateWorkspace sent at ${RATE_PER_SECOND}/s over ${durationMs / 1000} s after ${warmupMs / 1000} s warm-up (open loop: each leaves on schedule whatever the answers before it), every one tracked; ${lateStarts} left more than one interval late`,
      WATCHER_NOTE,
      `HTTP answer times: p50 ${round(http.p50)} ms, p99 ${round(http.p99)} ms`,
      breakdown.note,
      ...(perCommand ? [perCommand.note] : []),
      `during the measured window (times after its start), ${describeTail(watcher.timed, windowStart)}; ${backgroundSeen}`,
    ];
    if (failures > 0) notes.push(`${failures} failed requests, e.g. ${failureSamples[0]}`);
    if (unseen > 0)
      notes.push(
        `${unseen} workspaces never appeared within ${GRACE_MS / 1000} s; counted as ${GRACE_MS} ms`,
      );
    return {
      figure: round(summary.p99),
      unit: 'ms (p99)',
      metrics: {
        p50Ms: round(summary.p50),
        p95Ms: round(summary.p95),
        p99Ms: round(summary.p99),
        maxMs: round(summary.max),
        httpP99Ms: round(http.p99),
        eventsPerBatch: breakdown.eventsPerBatch,
        ...perCommand?.metrics,
        ...Object.fromEntries(Object.entries(breakdown.meanMs).map(([phase, ms]) => [`${phase}MeanMs`, ms])),
      },
      verified: { sent, responses201: created, seenInReadModel: lags.length, unseen, failures },
      verifiedOk: created > 0 && failures === 0 && unseen === 0,
      notes,
    };
  },
};

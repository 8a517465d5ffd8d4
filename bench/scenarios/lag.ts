import { BackgroundWorkWatch } from '../lib/background-work-watch.js';
import { deliveryBreakdown, deliverySnapshot } from '../lib/delivery-breakdown.js';
import { ReadModelWatcher, WATCHER_NOTE } from '../lib/read-model-watcher.js';
import { describeTail, round, summarize } from '../lib/stats.js';
import { probeReadModel } from '../lib/tenancy.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';
import { commandTenants, runCommandsLoad } from '../lib/workload.js';

const GRACE_MS = 10_000;

export const lagScenario: Scenario = {
  id: 'lag',
  description:
    'time from a CreateWorkspace 201 to its row in read_model.workspaces, under the commands load (16 clients, 100 tenants)',
  target: { text: 'p99 <= 50 ms', checks: [{ metric: 'figure', op: '<=', value: 50 }] },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    const probe = await probeReadModel(ctx);
    if (!probe.available) return { notRun: probe.reason ?? 'read model not available' };
    const tenants = await commandTenants(ctx);
    const durationMs = size === 'quick' ? 3_000 : 15_000;

    let created = 0;
    const watcher = new ReadModelWatcher(ctx);
    await watcher.start();
    const before = await deliverySnapshot(ctx);
    // What PostgreSQL did in the background while the lag was measured: a stall of the whole
    // server shows in the tail as a burst of slow rows seen at the same moment.
    const background = new BackgroundWorkWatch(ctx.pool);
    let windowStart = performance.now();
    let backgroundSeen = '';
    let load;
    let unseen: number;
    try {
      load = await runCommandsLoad(ctx, {
        tenants,
        durationMs,
        warmupMs: 1_000,
        namePrefix: `lag-${ctx.runTag}`,
        onWindowStart() {
          windowStart = performance.now();
          background.start();
        },
        onCreated(entry) {
          created += 1;
          watcher.watch(entry);
        },
      });
    } finally {
      backgroundSeen = await background.stop(windowStart);
      unseen = await watcher.stop(GRACE_MS);
    }
    const breakdown = deliveryBreakdown(before, await deliverySnapshot(ctx));
    const lags = watcher.lags;
    // A workspace never seen counts as the whole grace period: a lower bound of its real lag.
    const samples = [...lags, ...Array.from({ length: unseen }, () => GRACE_MS)];
    const summary = summarize(samples);
    const notes = [
      `every one of the ${created} created workspaces tracked; ${WATCHER_NOTE}`,
      `load during the measurement: ${round(load.perSecond, 0)} commands/s, p50 ${round(load.latency.p50)} ms, p99 ${round(load.latency.p99)} ms`,
      breakdown.note,
      `during the measured window (times after its start), ${describeTail(watcher.timed, windowStart)}; ${backgroundSeen}`,
    ];
    if (unseen > 0)
      notes.push(
        `${unseen} workspaces never appeared within ${GRACE_MS / 1000} s after the load; counted as ${GRACE_MS} ms`,
      );
    return {
      figure: round(summary.p99),
      unit: 'ms (p99)',
      metrics: {
        p50Ms: round(summary.p50),
        p95Ms: round(summary.p95),
        p99Ms: round(summary.p99),
        maxMs: round(summary.max),
        commandsPerSecond: round(load.perSecond, 0),
        eventsPerBatch: breakdown.eventsPerBatch,
        ...Object.fromEntries(Object.entries(breakdown.meanMs).map(([phase, ms]) => [`${phase}MeanMs`, ms])),
      },
      verified: { responses201: created, seenInReadModel: lags.length, unseen },
      verifiedOk: created > 0 && lags.length > 0,
      notes,
    };
  },
};

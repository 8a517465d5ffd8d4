import pg from 'pg';
import { round, sleep, summarize } from '../lib/stats.js';
import { probeReadModel } from '../lib/tenancy.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';
import { commandTenants, runCommandsLoad, type CreatedWorkspace } from '../lib/workload.js';

/** Every n-th created workspace is tracked, to keep the watcher's own load on PostgreSQL small. */
const TRACK_EVERY = 4;
const POLL_PAUSE_MS = 2;

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
    const graceMs = 10_000;

    const pending = new Map<string, CreatedWorkspace>();
    const lags: number[] = [];
    let tracked = 0;
    let created = 0;
    let loadRunning = true;

    // One connection of its own, polling the rows of the tracked workspaces by primary key.
    const watcher = new pg.Client({ connectionString: ctx.databaseUrl, application_name: 'bench-lag' });
    await watcher.connect();
    const poll = async (): Promise<void> => {
      let graceEnd = Number.POSITIVE_INFINITY;
      for (;;) {
        if (!loadRunning && graceEnd === Number.POSITIVE_INFINITY) graceEnd = performance.now() + graceMs;
        if (!loadRunning && (pending.size === 0 || performance.now() > graceEnd)) return;
        if (pending.size === 0) {
          await sleep(POLL_PAUSE_MS);
          continue;
        }
        const batch = [...pending.values()].slice(0, 2_000);
        const { rows } = await watcher.query<{ tenant_id: string; workspace_id: string }>(
          `SELECT w.tenant_id::text, w.workspace_id::text FROM read_model.workspaces w
           JOIN unnest($1::uuid[], $2::uuid[]) AS t (tenant_id, workspace_id)
             ON w.tenant_id = t.tenant_id AND w.workspace_id = t.workspace_id`,
          [batch.map((c) => c.tenantId), batch.map((c) => c.workspaceId)],
        );
        const now = performance.now();
        for (const row of rows) {
          const key = `${row.tenant_id}/${row.workspace_id}`;
          const entry = pending.get(key);
          if (!entry) continue;
          lags.push(now - entry.at);
          pending.delete(key);
        }
        await sleep(POLL_PAUSE_MS);
      }
    };
    const polling = poll();
    let load;
    try {
      load = await runCommandsLoad(ctx, {
        tenants,
        durationMs,
        warmupMs: 1_000,
        namePrefix: `lag-${ctx.runTag}`,
        onCreated(entry) {
          created += 1;
          if (created % TRACK_EVERY !== 0) return;
          tracked += 1;
          pending.set(`${entry.tenantId}/${entry.workspaceId}`, entry);
        },
      });
    } finally {
      loadRunning = false;
      await polling;
      await watcher.end();
    }
    const unseen = pending.size;
    // A workspace never seen counts as the whole grace period: a lower bound of its real lag.
    const samples = [...lags, ...Array.from({ length: unseen }, () => graceMs)];
    const summary = summarize(samples);
    const notes = [
      `${tracked} of ${created} created workspaces tracked (every ${TRACK_EVERY}th); a watcher connection polls them by primary key every ~${POLL_PAUSE_MS} ms, so each lag is over-estimated by up to one poll round`,
      `load during the measurement: ${round(load.perSecond, 0)} commands/s, p99 ${round(load.latency.p99)} ms`,
    ];
    if (unseen > 0)
      notes.push(
        `${unseen} tracked workspaces never appeared within ${graceMs / 1000} s after the load; counted as ${graceMs} ms`,
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
      },
      verified: { responses201: created, tracked, seenInReadModel: lags.length, unseen },
      verifiedOk: tracked > 0 && lags.length > 0,
      notes,
    };
  },
};

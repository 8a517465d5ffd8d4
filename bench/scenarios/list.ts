import { randomUUID } from 'node:crypto';
import { planTree, seedWorkspaces, shapeFor } from '../lib/events.js';
import { round, summarize } from '../lib/stats.js';
import {
  createTenant,
  createWorkspace,
  probeReadModel,
  routeExists,
  waitForProjected,
} from '../lib/tenancy.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';

const PAGE = 100;

interface Page {
  readonly items?: unknown[];
  readonly nextCursor?: string | null;
}

export const listScenario: Scenario = {
  id: 'list',
  description:
    'GET /v1/tenants/{tenantId}/workspaces?limit=100 (sequential, walking the pages by cursor) in a tenant holding 10,000 workspaces',
  target: { text: 'p95 <= 5 ms', checks: [{ metric: 'figure', op: '<=', value: 5 }] },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    if (!(await routeExists(ctx, `/v1/tenants/${randomUUID()}/workspaces?limit=${PAGE}`))) {
      return {
        notRun: 'GET /v1/tenants/{tenantId}/workspaces answers 404 ROUTE_NOT_FOUND (query API not built yet)',
      };
    }
    const probe = await probeReadModel(ctx);
    if (!probe.available) return { notRun: probe.reason ?? 'read model not available' };

    const total = size === 'quick' ? 1_000 : 10_000;
    const requests = size === 'quick' ? 100 : 1_000;
    const warmups = size === 'quick' ? 20 : 50;
    const tenantId = await createTenant(ctx, `list-${ctx.runTag}`);
    await createWorkspace(ctx, tenantId, 'first');
    await seedWorkspaces(ctx.eventStore, tenantId, planTree(tenantId, shapeFor(total - 2, 3, 100), 'seed'));
    const projected = await waitForProjected(ctx, tenantId, total, size === 'quick' ? 30_000 : 120_000);
    if (projected.count < total) {
      return {
        notRun: `the read model held ${projected.count} of ${total} workspaces of the tenant after ${round(projected.ms / 1000, 1)} s`,
      };
    }

    const basePath = `/v1/tenants/${tenantId}/workspaces?limit=${PAGE}`;
    let cursor: string | undefined;
    let walkItems = 0;
    const walks: number[] = [];
    let bad = 0;
    const badSamples: string[] = [];
    const latencies: number[] = [];
    for (let index = 0; index < warmups + requests; index++) {
      const path = cursor ? `${basePath}&cursor=${encodeURIComponent(cursor)}` : basePath;
      const answer = await ctx.http.send({ method: 'GET', path });
      const page = answer.body as Page;
      const items = Array.isArray(page?.items) ? page.items.length : -1;
      const last = !page?.nextCursor;
      if (answer.status !== 200 || items < 0 || (!last && items !== PAGE)) {
        bad += 1;
        if (badSamples.length < 3)
          badSamples.push(`${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
        cursor = undefined;
        walkItems = 0;
        continue;
      }
      if (index >= warmups) latencies.push(answer.ms);
      walkItems += items;
      if (last) {
        walks.push(walkItems);
        walkItems = 0;
        cursor = undefined;
      } else {
        cursor = page.nextCursor;
      }
    }
    const summary = summarize(latencies);

    // The same pages straight from PostgreSQL (keyset on the list index), as the floor for a page,
    // planned as the service plans its pages: as a walk of the index, never a sort.
    const sqlLatencies: number[] = [];
    let after: { position: string; id: string } | undefined;
    const client = await ctx.pool.connect();
    let settingReset = false;
    try {
      await client.query('SET enable_sort = off');
      for (let index = 0; index < warmups + requests; index++) {
        const started = performance.now();
        const { rows } = await client.query<{ created_position: string; workspace_id: string }>(
          after
            ? `SELECT * FROM read_model.workspaces WHERE tenant_id = $1 AND (created_position, workspace_id) > ($2, $3)
               ORDER BY created_position, workspace_id LIMIT ${PAGE}`
            : `SELECT * FROM read_model.workspaces WHERE tenant_id = $1 ORDER BY created_position, workspace_id LIMIT ${PAGE}`,
          after ? [tenantId, after.position, after.id] : [tenantId],
        );
        if (index >= warmups) sqlLatencies.push(performance.now() - started);
        const lastRow = rows[rows.length - 1];
        after =
          rows.length === PAGE && lastRow
            ? { position: lastRow.created_position, id: lastRow.workspace_id }
            : undefined;
      }
      await client.query('RESET enable_sort');
      settingReset = true;
    } finally {
      // A connection still carrying the setting is closed rather than lent to another scenario.
      client.release(!settingReset);
    }
    const sql = summarize(sqlLatencies);
    const notes = [
      `${requests} sequential GETs after ${warmups} warm-up, walking all pages by nextCursor; p50 ${round(summary.p50)} ms, p99 ${round(summary.p99)} ms`,
      `ceiling: the same keyset page straight from PostgreSQL through node-postgres (no HTTP, no RLS; sorts disabled as the service does for its pages), p50 ${round(sql.p50)} ms, p95 ${round(sql.p95)} ms`,
    ];
    if (bad > 0) notes.push(`${bad} bad answers, e.g. ${badSamples[0]}`);
    const completeWalksOk = walks.every((items) => items === total);
    if (!completeWalksOk) notes.push(`a full walk returned ${walks.join(', ')} items, expected ${total}`);
    return {
      figure: round(summary.p95),
      unit: 'ms (p95)',
      ceiling: round(sql.p95),
      ceilingUnit: 'ms (p95, SQL only)',
      ratio: round(summary.p95 / sql.p95, 2),
      metrics: { p50Ms: round(summary.p50), p95Ms: round(summary.p95), p99Ms: round(summary.p99) },
      verified: {
        answers200: latencies.length,
        badAnswers: bad,
        completeWalks: walks.length,
        workspacesInReadModel: projected.count,
      },
      verifiedOk: bad === 0 && latencies.length === requests && completeWalksOk,
      notes,
    };
  },
};

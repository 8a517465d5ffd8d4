import { round, summarize } from '../lib/stats.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';
import { permissionTenant } from './permissions.seed.js';

const PAGE = 100;

interface LookupPage {
  readonly items?: { workspaceId: string }[];
  readonly nextCursor?: string | null;
}

export const lookupScenario: Scenario = {
  id: 'lookup',
  description:
    'GET /v1/tenants/{t}/principals/user/{u}/workspaces?permission=workspace.read&limit=100, first page, for members who may read ~10,000 workspaces (a viewer grant on a top-level workspace)',
  target: { text: 'first page p95 <= 20 ms', checks: [{ metric: 'figure', op: '<=', value: 20 }] },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    const tenant = await permissionTenant(ctx, size);
    const notes = [...tenant.notes];
    const pathOf = (userId: string, cursor?: string) =>
      `/v1/tenants/${tenant.tenantId}/principals/user/${userId}/workspaces?permission=workspace.read&limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    // What each lookup member may read: the subtree of its top-level workspace, from the plan.
    const tops = tenant.workspaces.filter((workspace) => workspace.depth === 1);
    const subtreeSize = new Map<string, number>();
    const topOf = new Map<string, string>();
    for (const workspace of tenant.workspaces) {
      const top = workspace.depth === 1 ? workspace.workspaceId : topOf.get(workspace.parentWorkspaceId)!;
      topOf.set(workspace.workspaceId, top);
      subtreeSize.set(top, (subtreeSize.get(top) ?? 0) + 1);
    }
    await ctx.http.send({ method: 'GET', path: pathOf(tenant.lookupUsers[0]!) });

    // Cold: the first page of each member once (the service keeps a sorted list per member and
    // tenant revision for the next pages, so only a member's first request pays for collecting it).
    const cold: number[] = [];
    const warm: number[] = [];
    let bad = 0;
    for (const [index, userId] of tenant.lookupUsers.entries()) {
      if (index === 0) continue;
      for (const samples of [cold, warm]) {
        const answer = await ctx.http.send({ method: 'GET', path: pathOf(userId) });
        const page = answer.body as LookupPage;
        if (answer.status !== 200 || page.items?.length !== PAGE || !page.nextCursor) bad += 1;
        samples.push(answer.ms);
      }
    }
    // One full walk, to prove the pages add up to the subtree.
    const walker = tenant.lookupUsers[1]!;
    const expected = subtreeSize.get(tops[1 % tops.length]!.workspaceId)!;
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const answer = await ctx.http.send({ method: 'GET', path: pathOf(walker, cursor) });
      const page = answer.body as LookupPage;
      for (const item of page.items ?? []) seen.add(item.workspaceId);
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor !== undefined && pages < 1_000);

    // The read-model list of the same tenant, first page, as the floor of a page over HTTP.
    const floor: number[] = [];
    for (let index = 0; index < cold.length; index++) {
      floor.push(
        (
          await ctx.http.send({
            method: 'GET',
            path: `/v1/tenants/${tenant.tenantId}/workspaces?limit=${PAGE}`,
          })
        ).ms,
      );
    }
    const coldSummary = summarize(cold);
    const warmSummary = summarize(warm);
    const floorSummary = summarize(floor);
    notes.push(
      `${cold.length} members, each asked twice: first (cold) p50 ${round(coldSummary.p50)} ms, p95 ${round(coldSummary.p95)} ms, p99 ${round(coldSummary.p99)} ms; again (warm) p95 ${round(warmSummary.p95)} ms`,
      `a full walk: ${seen.size.toLocaleString('en')} workspaces in ${pages} pages (the member's subtree holds ${expected.toLocaleString('en')})`,
      `ceiling: GET /v1/tenants/{t}/workspaces?limit=${PAGE} (read model, first page) p95 ${round(floorSummary.p95)} ms`,
    );
    if (bad > 0) notes.push(`${bad} answers were not a full first page with a cursor`);
    return {
      figure: round(coldSummary.p95),
      unit: `ms p95, first page (~${expected.toLocaleString('en')} reachable)`,
      ceiling: round(floorSummary.p95),
      ceilingUnit: 'ms p95, read-model list page',
      ratio: round(coldSummary.p95 / floorSummary.p95, 2),
      metrics: {
        coldP50Ms: round(coldSummary.p50),
        coldP95Ms: round(coldSummary.p95),
        warmP95Ms: round(warmSummary.p95),
        reachable: expected,
      },
      verified: { firstPages: cold.length * 2, badAnswers: bad, walked: seen.size, expected },
      verifiedOk: bad === 0 && seen.size === expected,
      notes,
    };
  },
};

import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { planTree, seedWorkspaces, shapeFor } from '../lib/events.js';
import type { HttpAnswer } from '../lib/http.js';
import { round, summarize } from '../lib/stats.js';
import { createTenant, createWorkspace, probeReadModel, waitForProjected } from '../lib/tenancy.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';

async function liveWorkspaceEvents(ctx: BenchContext, tenantId: string): Promise<number> {
  const { rows } = await ctx.pool.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM events WHERE stream_name = $1 AND event_type = 'WorkspaceCreated'`,
    [tenantStreamName(tenantId)],
  );
  return rows[0]?.count ?? 0;
}

export const bigTenantScenario: Scenario = {
  id: 'big-tenant',
  description:
    'CreateWorkspace p50 latency (sequential requests, interleaved) in a tenant holding 100,000 workspaces vs one holding 100',
  target: { text: 'p50 ratio <= 2', checks: [{ metric: 'ratio', op: '<=', value: 2 }] },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    const bigTotal = size === 'quick' ? 5_000 : 100_000;
    const smallTotal = 100;
    const requests = size === 'quick' ? 50 : 300;
    const warmups = 20;
    const notes: string[] = [];

    // Both tenants are created over HTTP, each with one workspace (so its root exists), then filled
    // through the EventStore port in batches of 1,000 WorkspaceCreated events shaped as the service
    // writes them. Both count their root: the big tenant holds bigTotal workspaces in all.
    const big = await createTenant(ctx, `big-${ctx.runTag}`);
    const small = await createTenant(ctx, `small-${ctx.runTag}`);
    await createWorkspace(ctx, big, 'first');
    await createWorkspace(ctx, small, 'first');
    const seedStarted = performance.now();
    const bigPlan = planTree(big, shapeFor(bigTotal - 2, 2, size === 'quick' ? 50 : 100), 'seed');
    const smallPlan = planTree(small, shapeFor(smallTotal - 2, 1, smallTotal - 2), 'seed');
    await seedWorkspaces(ctx.eventStore, big, bigPlan);
    await seedWorkspaces(ctx.eventStore, small, smallPlan);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    notes.push(
      `seeded ${bigPlan.length + smallPlan.length} WorkspaceCreated through the EventStore port in ${round(seedSeconds, 1)} s (${round((bigPlan.length + smallPlan.length) / seedSeconds, 0)} events/s, 1,000 per append); big tenant: ${bigPlan.filter((w) => w.depth === 1).length} workspaces under the root, the rest one level below`,
    );
    const bigEventsBefore = await liveWorkspaceEvents(ctx, big);

    // With projections running, let them digest the seed first (up to a minute, for the suite's
    // time budget), so they do not compete with the measured requests; the requests are interleaved
    // big/small anyway, so what background work remains weighs on both alike.
    const probe = await probeReadModel(ctx);
    if (probe.available) {
      const waited = await waitForProjected(ctx, big, bigTotal, size === 'quick' ? 30_000 : 60_000);
      notes.push(
        waited.count >= bigTotal
          ? `read model caught up with the seed in ${round(waited.ms / 1000, 1)} s before measuring`
          : `read model held only ${waited.count} of ${bigTotal} workspaces after ${round(waited.ms / 1000, 1)} s; measured anyway`,
      );
    }

    const create = (tenantId: string, name: string): Promise<HttpAnswer> =>
      ctx.http.send({ method: 'POST', path: `/v1/tenants/${tenantId}/workspaces`, body: { name } });
    let created = 0;
    let failures = 0;
    const failureSamples: string[] = [];
    const check = (answer: HttpAnswer): HttpAnswer => {
      if (answer.status === 201) created += 1;
      else {
        failures += 1;
        if (failureSamples.length < 3) failureSamples.push(`${answer.status} ${JSON.stringify(answer.body)}`);
      }
      return answer;
    };

    // The first command after the seed makes the service read the seeded events into its cached state.
    const firstBig = check(await create(big, `warm-0`));
    const firstSmall = check(await create(small, `warm-0`));
    notes.push(
      `first command after seeding (service catches up ${bigPlan.length} events): big ${round(firstBig.ms, 1)} ms, small ${round(firstSmall.ms, 1)} ms`,
    );
    for (let index = 1; index < warmups; index++) {
      check(await create(big, `warm-${index}`));
      check(await create(small, `warm-${index}`));
    }
    const bigLatencies: number[] = [];
    const smallLatencies: number[] = [];
    for (let index = 0; index < requests; index++) {
      // Interleaved, alternating which goes first, so drift affects both alike.
      const pair =
        index % 2 === 0
          ? [
              ['big', await create(big, `m-${index}`)],
              ['small', await create(small, `m-${index}`)],
            ]
          : [
              ['small', await create(small, `m-${index}`)],
              ['big', await create(big, `m-${index}`)],
            ];
      for (const [which, answer] of pair as [string, HttpAnswer][]) {
        check(answer);
        (which === 'big' ? bigLatencies : smallLatencies).push(answer.ms);
      }
    }
    const bigSummary = summarize(bigLatencies);
    const smallSummary = summarize(smallLatencies);
    const bigEventsAfter = await liveWorkspaceEvents(ctx, big);
    const expectedBigEvents = bigEventsBefore + warmups + requests;
    if (failures > 0) notes.push(`${failures} failed requests, e.g. ${failureSamples[0]}`);
    notes.push(
      `big p50/p95/p99 ${round(bigSummary.p50)}/${round(bigSummary.p95)}/${round(bigSummary.p99)} ms; small ${round(smallSummary.p50)}/${round(smallSummary.p95)}/${round(smallSummary.p99)} ms; ${requests} each after ${warmups} warm-up each`,
    );
    return {
      figure: round(bigSummary.p50),
      unit: `ms p50 (${bigTotal.toLocaleString('en')} workspaces)`,
      ceiling: round(smallSummary.p50),
      ceilingUnit: `ms p50 (${smallTotal} workspaces)`,
      ratio: round(bigSummary.p50 / smallSummary.p50, 3),
      metrics: {
        bigP50Ms: round(bigSummary.p50),
        bigP99Ms: round(bigSummary.p99),
        smallP50Ms: round(smallSummary.p50),
        smallP99Ms: round(smallSummary.p99),
        firstBigMs: round(firstBig.ms),
        seedEventsPerSecond: round((bigPlan.length + smallPlan.length) / seedSeconds, 0),
      },
      verified: {
        responses201: created,
        workspaceCreatedInBigStream: bigEventsAfter,
        bigTenantWorkspacesBeforeMeasuring: bigEventsBefore,
      },
      verifiedOk:
        failures === 0 &&
        created === 2 * (warmups + requests) &&
        bigEventsBefore >= bigTotal &&
        bigEventsAfter === expectedBigEvents,
      notes,
    };
  },
};

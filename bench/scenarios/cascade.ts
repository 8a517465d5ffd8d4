import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { planTree, seedWorkspaces, shapeFor } from '../lib/events.js';
import { round, sleep } from '../lib/stats.js';
import { createTenant, createWorkspace, probeReadModel, waitForProjected } from '../lib/tenancy.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';

const DEPTH = 5;
/** Without a single WorkspaceDeleted by then, the cascade process manager is taken to be absent. */
const FIRST_PROGRESS_TIMEOUT_MS = 15_000;

async function streamCounts(ctx: BenchContext, tenantId: string) {
  const { rows } = await ctx.pool.query<{ deleted: number; tenant_deleted: number }>(
    `SELECT count(*) FILTER (WHERE event_type = 'WorkspaceDeleted')::int AS deleted,
            count(*) FILTER (WHERE event_type = 'TenantDeleted')::int AS tenant_deleted
     FROM events WHERE stream_name = $1`,
    [tenantStreamName(tenantId)],
  );
  return { deleted: rows[0]?.deleted ?? 0, tenantDeleted: rows[0]?.tenant_deleted ?? 0 };
}

async function tenantStatus(ctx: BenchContext, tenantId: string): Promise<string | undefined> {
  const { rows } = await ctx.pool.query<{ status: string }>(
    'SELECT status FROM read_model.tenants WHERE tenant_id = $1',
    [tenantId],
  );
  return rows[0]?.status;
}

export const cascadeScenario: Scenario = {
  id: 'cascade',
  description:
    "DELETE /v1/tenants/{id} of a tenant with 10,000 workspaces nested 5 deep, until read_model.tenants.status = 'deleted'",
  target: { text: '<= 10 s', checks: [{ metric: 'figure', op: '<=', value: 10 }] },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    const probe = await probeReadModel(ctx);
    if (!probe.available) return { notRun: probe.reason ?? 'read model not available' };
    const total = size === 'quick' ? 1_000 : 10_000;
    const capMs = size === 'quick' ? 60_000 : 180_000;

    const tenantId = await createTenant(ctx, `cascade-${ctx.runTag}`);
    await createWorkspace(ctx, tenantId, 'first');
    const plan = planTree(tenantId, shapeFor(total - 2, DEPTH, 10), 'seed');
    await seedWorkspaces(ctx.eventStore, tenantId, plan);
    const projected = await waitForProjected(ctx, tenantId, total, size === 'quick' ? 30_000 : 120_000);
    if (projected.count < total) {
      return {
        notRun: `the read model held ${projected.count} of ${total} workspaces of the tenant after ${round(projected.ms / 1000, 1)} s`,
      };
    }

    const started = performance.now();
    const answer = await ctx.http.send({ method: 'DELETE', path: `/v1/tenants/${tenantId}` });
    if (answer.status !== 202) {
      return { notRun: `DELETE /v1/tenants/{id} answered ${answer.status}: ${JSON.stringify(answer.body)}` };
    }
    let finishedAt: number | undefined;
    let lastDeleted = 0;
    for (;;) {
      const status = await tenantStatus(ctx, tenantId);
      const now = performance.now();
      if (status === 'deleted' || status === undefined) {
        // A projection may also drop the row of a deleted tenant; the stream tells which it was.
        if (status === 'deleted' || (await streamCounts(ctx, tenantId)).tenantDeleted > 0) {
          finishedAt = now;
          break;
        }
      }
      if (now - started > FIRST_PROGRESS_TIMEOUT_MS || now - started > capMs) {
        lastDeleted = (await streamCounts(ctx, tenantId)).deleted;
        if (lastDeleted === 0) {
          return {
            notRun: `no WorkspaceDeleted appended within ${FIRST_PROGRESS_TIMEOUT_MS / 1000} s of the 202 (cascade process manager not running)`,
          };
        }
        if (now - started > capMs) break;
      }
      await sleep(20);
    }
    const counts = await streamCounts(ctx, tenantId);
    const notes = [
      `tree: ${shapeFor(total - 2, DEPTH, 10).perDepth.join(' / ')} workspaces at depths 1..${DEPTH} plus the root and one more at depth 1`,
    ];
    if (finishedAt === undefined) {
      notes.push(
        `not finished after ${capMs / 1000} s: ${counts.deleted} of ${total} workspaces deleted in the stream`,
      );
      return {
        unit: 's',
        metrics: { capSeconds: capMs / 1000 },
        verified: { workspaceDeletedEvents: counts.deleted, tenantDeletedEvents: counts.tenantDeleted },
        verifiedOk: false,
        notes,
      };
    }
    const seconds = (finishedAt - started) / 1000;
    return {
      figure: round(seconds, 2),
      unit: 's',
      metrics: { workspacesPerSecond: round(total / seconds, 0) },
      verified: {
        workspaceDeletedEvents: counts.deleted,
        tenantDeletedEvents: counts.tenantDeleted,
        workspacesBefore: projected.count,
      },
      verifiedOk: counts.deleted === total && counts.tenantDeleted === 1,
      notes,
    };
  },
};

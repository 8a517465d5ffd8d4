import { randomUUID } from 'node:crypto';
import type { BenchContext } from './types.js';
import { sleep, waitFor } from './stats.js';

/** Creates a tenant over HTTP (POST /v1/tenants); throws unless the answer is 201. */
export async function createTenant(ctx: BenchContext, name: string): Promise<string> {
  const tenantId = randomUUID();
  const answer = await ctx.http.send({ method: 'POST', path: '/v1/tenants', body: { name, tenantId } });
  if (answer.status !== 201) {
    throw new Error(`POST /v1/tenants answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return tenantId;
}

/** Creates tenants with `concurrency` requests in flight. */
export async function createTenants(
  ctx: BenchContext,
  count: number,
  namePrefix: string,
  concurrency = 8,
): Promise<string[]> {
  const ids: string[] = new Array<string>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let index = next++; index < count; index = next++) {
        ids[index] = await createTenant(ctx, `${namePrefix}-${index}`);
      }
    }),
  );
  return ids;
}

/** Creates a workspace over HTTP; throws unless the answer is 201. */
export async function createWorkspace(
  ctx: BenchContext,
  tenantId: string,
  name: string,
  parentWorkspaceId?: string,
): Promise<string> {
  const workspaceId = randomUUID();
  const answer = await ctx.http.send({
    method: 'POST',
    path: `/v1/tenants/${tenantId}/workspaces`,
    body: { name, workspaceId, ...(parentWorkspaceId ? { parentWorkspaceId } : {}) },
  });
  if (answer.status !== 201) {
    throw new Error(`POST workspaces answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return workspaceId;
}

/** True when the service answers the route (anything but a 404 ROUTE_NOT_FOUND). */
export async function routeExists(ctx: BenchContext, path: string): Promise<boolean> {
  const answer = await ctx.http.send({ method: 'GET', path });
  const code = (answer.body as { code?: unknown } | undefined)?.code;
  return !(answer.status === 404 && code === 'ROUTE_NOT_FOUND');
}

export interface ReadModelProbe {
  readonly available: boolean;
  readonly reason?: string;
  /** Milliseconds the probe's workspace took to appear, when it did. */
  readonly appearedAfterMs?: number;
}

/**
 * Does the service project its writes into read_model.workspaces? Creates a tenant and a workspace
 * and waits for the row. Done once per run; later scenarios reuse the answer.
 */
export async function probeReadModel(ctx: BenchContext): Promise<ReadModelProbe> {
  const cached = ctx.shared.get('readModelProbe') as ReadModelProbe | undefined;
  if (cached) return cached;
  const timeoutMs = ctx.size === 'quick' ? 5_000 : 10_000;
  const tenantId = await createTenant(ctx, `probe-${ctx.runTag}`);
  const started = performance.now();
  const workspaceId = await createWorkspace(ctx, tenantId, 'probe');
  const seen = await waitFor(
    async () => {
      const { rowCount } = await ctx.pool.query(
        'SELECT 1 FROM read_model.workspaces WHERE tenant_id = $1 AND workspace_id = $2',
        [tenantId, workspaceId],
      );
      return rowCount ? true : undefined;
    },
    timeoutMs,
    10,
  );
  const probe: ReadModelProbe = seen
    ? { available: true, appearedAfterMs: performance.now() - started }
    : {
        available: false,
        reason: `read_model.workspaces never showed a workspace created over HTTP within ${timeoutMs / 1000} s (projections not running)`,
      };
  ctx.shared.set('readModelProbe', probe);
  return probe;
}

/** Live workspaces of a tenant in the read model. */
export async function readModelWorkspaceCount(ctx: BenchContext, tenantId: string): Promise<number> {
  const { rows } = await ctx.pool.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM read_model.workspaces WHERE tenant_id = $1`,
    [tenantId],
  );
  return rows[0]?.count ?? 0;
}

/**
 * Waits until the read model holds at least `expected` workspaces of the tenant. Gives up early
 * when the count stops moving for `stallMs`. Returns the last count seen.
 */
export async function waitForProjected(
  ctx: BenchContext,
  tenantId: string,
  expected: number,
  timeoutMs: number,
  stallMs = 20_000,
): Promise<{ count: number; ms: number }> {
  const started = performance.now();
  let last = -1;
  let lastChange = started;
  for (;;) {
    const count = await readModelWorkspaceCount(ctx, tenantId);
    const now = performance.now();
    if (count >= expected) return { count, ms: now - started };
    if (count !== last) {
      last = count;
      lastChange = now;
    }
    if (now - started > timeoutMs || now - lastChange > stallMs) return { count, ms: now - started };
    await sleep(100);
  }
}

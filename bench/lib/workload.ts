import { randomUUID } from 'node:crypto';
import { runLoad, type HttpAnswer, type LoadResult, type RequestSpec } from './http.js';
import { createTenants, createWorkspace } from './tenancy.js';
import type { BenchContext } from './types.js';

export const COMMAND_CLIENTS = 16;
export const COMMAND_TENANTS = 100;

/**
 * The 100 tenants the CreateWorkspace load is spread over, created over HTTP once per run, each with
 * one workspace created already (so its root exists and the service has loaded it once).
 */
export async function commandTenants(ctx: BenchContext): Promise<string[]> {
  const cached = ctx.shared.get('commandTenants') as string[] | undefined;
  if (cached) return cached;
  const tenants = await createTenants(ctx, COMMAND_TENANTS, `cmd-${ctx.runTag}`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let index = next++; index < tenants.length; index = next++) {
        await createWorkspace(ctx, tenants[index] as string, 'first');
      }
    }),
  );
  ctx.shared.set('commandTenants', tenants);
  return tenants;
}

export interface CreatedWorkspace {
  readonly tenantId: string;
  readonly workspaceId: string;
  /** performance.now() when the 201 had been read. */
  readonly at: number;
}

export interface CommandsLoadOptions {
  readonly tenants: readonly string[];
  readonly durationMs: number;
  readonly warmupMs: number;
  /** Workspace names of the run start with it: `<prefix>-m-<n>` in the window, `-w-` in warm-up. */
  readonly namePrefix: string;
  readonly onCreated?: (created: CreatedWorkspace) => void;
  readonly onWindowStart?: () => void;
}

/** CreateWorkspace over HTTP from 16 keep-alive clients, round-robin over the tenants. */
export async function runCommandsLoad(ctx: BenchContext, options: CommandsLoadOptions): Promise<LoadResult> {
  const { tenants } = options;
  return runLoad(ctx.http, {
    clients: COMMAND_CLIENTS,
    durationMs: options.durationMs,
    warmupMs: options.warmupMs,
    next(_client, sequence, measured): RequestSpec {
      const tenantId = tenants[sequence % tenants.length] as string;
      return {
        method: 'POST',
        path: `/v1/tenants/${tenantId}/workspaces`,
        body: {
          name: `${options.namePrefix}-${measured ? 'm' : 'w'}-${sequence}`,
          workspaceId: randomUUID(),
        },
      };
    },
    ...(options.onWindowStart ? { onWindowStart: options.onWindowStart } : {}),
    onAnswer(_spec: RequestSpec, answer: HttpAnswer, arrivedAt: number) {
      if (answer.status !== 201 || !options.onCreated) return;
      const body = answer.body as { tenantId: string; workspaceId: string };
      options.onCreated({ tenantId: body.tenantId, workspaceId: body.workspaceId, at: arrivedAt });
    },
  });
}

/** WorkspaceCreated events in the log whose name starts with the prefix (measured window only). */
export async function countCreatedEvents(ctx: BenchContext, namePrefix: string): Promise<number> {
  const { rows } = await ctx.pool.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM events
     WHERE event_type = 'WorkspaceCreated' AND data->>'name' LIKE $1`,
    [`${namePrefix}-m-%`],
  );
  return rows[0]?.count ?? 0;
}

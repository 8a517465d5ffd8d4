import { decodeTenancyEvent } from '../../application/tenancy-event.codec.js';
import type { EventStore, Position } from '../../event-store/event-store.port.js';
import { isPosition } from '../../event-store/position.js';
import { evolve, initialState } from '../../tenancy/tenancy.decider.js';
import { tenantStreamName } from '../../tenancy/tenant-stream.js';
import type { TenantState, TenantStatus, WorkspaceStatus } from '../../tenancy/tenant.state.js';
import { isCanonicalUuid } from '../../tenancy/uuid.js';
import { UsageError, type CliCommand } from '../cli-command.js';
import { writeRespectingBackPressure } from '../output.js';

/** A point in the log: a position (inclusive) or a moment, compared with the store's recordedAt. */
export type HistoryPoint = { readonly position: Position } | { readonly time: Date };

export interface WorkspaceAtPoint {
  readonly workspaceId: string;
  readonly parentWorkspaceId: string | null;
  readonly name: string;
  readonly isRoot: boolean;
  readonly depth: number;
  readonly status: Exclude<WorkspaceStatus, 'deleted'>;
}

export interface TenantAtPoint {
  readonly tenantId: string;
  readonly name: string | null;
  readonly status: TenantStatus;
  /** The last event folded in; null when the tenant did not exist yet at that point. */
  readonly revision: number | null;
  readonly position: Position | null;
  readonly recordedAt: string | null;
  /** The workspaces that were not deleted, parents before children, siblings in creation order. */
  readonly workspaces: readonly WorkspaceAtPoint[];
}

/**
 * The tenant as it was at a point of the log, rebuilt from its own stream with the domain's fold
 * (and the codec's upcasters), never from a read model: what an auditor can trust even when the read
 * models are suspect. The stream is read in revision order, which is also log order within a stream.
 */
export async function tenantAtPoint(
  store: EventStore,
  tenantId: string,
  point?: HistoryPoint,
): Promise<TenantAtPoint> {
  let state = initialState();
  let last: { revision: number; position: Position; recordedAt: Date } | undefined;
  for await (const recorded of store.readStream(tenantStreamName(tenantId))) {
    if (point !== undefined && isAfter(recorded, point, store)) break;
    state = evolve(state, decodeTenancyEvent(recorded));
    last = recorded;
  }
  return {
    tenantId,
    name: state.name ?? null,
    status: state.status,
    revision: last?.revision ?? null,
    position: last?.position ?? null,
    recordedAt: last?.recordedAt.toISOString() ?? null,
    workspaces: liveWorkspacesInTreeOrder(state),
  };
}

function isAfter(
  recorded: { position: Position; recordedAt: Date },
  point: HistoryPoint,
  store: EventStore,
): boolean {
  return 'position' in point
    ? store.comparePositions(recorded.position, point.position) > 0
    : recorded.recordedAt.getTime() > point.time.getTime();
}

/** Depth-first without recursion: a tenant's tree may be deeper than the call stack. */
function liveWorkspacesInTreeOrder(state: TenantState): WorkspaceAtPoint[] {
  const ordered: WorkspaceAtPoint[] = [];
  const root = state.rootWorkspaceId === undefined ? undefined : state.workspaces.get(state.rootWorkspaceId);
  if (root === undefined || root.status === 'deleted') return ordered;
  const stack = [root];
  while (stack.length > 0) {
    const workspace = stack.pop()!;
    if (workspace.status === 'deleted') continue;
    const { workspaceId, parentWorkspaceId, name, isRoot, depth, status } = workspace;
    ordered.push({ workspaceId, parentWorkspaceId, name, isRoot, depth, status });
    const children = [...state.liveChildren(workspaceId)];
    for (let index = children.length - 1; index >= 0; index--) {
      const child = state.workspaces.get(children[index]!);
      if (child !== undefined) stack.push(child);
    }
  }
  return ordered;
}

/** An indented tree with box-drawing guides, one workspace per line. */
export function renderTenantTree(tenant: TenantAtPoint): string {
  if (tenant.status === 'none') {
    return `Tenant ${tenant.tenantId} did not exist at that point.\n`;
  }
  const lines = [
    `Tenant ${tenant.name ?? '?'} (${tenant.tenantId}): ${tenant.status}`,
    `as of revision ${tenant.revision}, position ${tenant.position}, recorded ${tenant.recordedAt}`,
    `${tenant.workspaces.length} workspace${tenant.workspaces.length === 1 ? '' : 's'}`,
    '',
  ];
  const isLast = lastAmongSiblings(tenant.workspaces);
  // For each depth, whether the workspace drawn last at that depth has siblings still to come.
  const continues: boolean[] = [];
  tenant.workspaces.forEach((workspace, index) => {
    const last = isLast[index] === true;
    const guides = continues
      .slice(1, workspace.depth)
      .map((more) => (more ? '│   ' : '    '))
      .join('');
    const branch = workspace.depth === 0 ? '' : last ? '└── ' : '├── ';
    const flag = workspace.status === 'deleting' ? '  [deleting]' : '';
    lines.push(`${guides}${branch}${workspace.name}  (${workspace.workspaceId})${flag}`);
    continues[workspace.depth] = !last;
    continues.length = workspace.depth + 1;
  });
  return `${lines.join('\n')}\n`;
}

/** One backwards pass over the tree order, so that wide or deep trees cost O(n), not O(n²). */
function lastAmongSiblings(workspaces: readonly WorkspaceAtPoint[]): boolean[] {
  const isLast: boolean[] = new Array<boolean>(workspaces.length);
  const siblingFollows: boolean[] = [];
  for (let index = workspaces.length - 1; index >= 0; index--) {
    const depth = workspaces[index]!.depth;
    // Anything deeper seen so far belonged to this workspace's subtree, not to its siblings' level.
    siblingFollows.length = Math.min(siblingFollows.length, depth + 1);
    isLast[index] = siblingFollows[depth] !== true;
    siblingFollows[depth] = true;
  }
  return isLast;
}

export function parseHistoryPoint(value: string): HistoryPoint {
  if (isPosition(value)) return { position: value };
  const time = new Date(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(time.getTime())) return { time };
  throw new UsageError(`--at must be a log position or an ISO 8601 time, not '${value}'`);
}

export const historyCommand: CliCommand = {
  name: 'history',
  summary: "print a tenant's workspace tree as it was at a point of the log",
  help: `Usage: tenancy history --tenant <tenantId> [--at <position | ISO time>] [--json]

Rebuilds the tenant's workspace tree from its event stream (not from the read models), as it was
after the last event at or before --at (default: now), and prints it as an indented tree.

Options:
  --tenant <id>   the tenant's id (a UUID)
  --at <point>    a log position (as the API and the feed report them), inclusive, or an ISO 8601
                  time such as 2025-03-01T12:00:00Z, compared with the time the store recorded events
  --json          print JSON instead: the tenant and its live workspaces, parents before children
  -h, --help      show this help
`,
  options: {
    tenant: { type: 'string' },
    at: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(options, _positionals, context) {
    const tenantId = typeof options.tenant === 'string' ? options.tenant.toLowerCase() : undefined;
    if (tenantId === undefined || !isCanonicalUuid(tenantId)) {
      throw new UsageError('--tenant <id> is required and must be a UUID');
    }
    const point = typeof options.at === 'string' ? parseHistoryPoint(options.at) : undefined;
    const store = await context.eventStore();
    if ((await store.streamRevision(tenantStreamName(tenantId))) === undefined) {
      await writeRespectingBackPressure(context.stderr, `No tenant ${tenantId} in the event store.\n`);
      return 1;
    }
    const tenant = await tenantAtPoint(store, tenantId, point);
    await writeRespectingBackPressure(
      context.stdout,
      options.json === true ? `${JSON.stringify(tenant, null, 2)}\n` : renderTenantTree(tenant),
    );
    return 0;
  },
};

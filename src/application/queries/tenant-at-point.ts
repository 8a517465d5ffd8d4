import type { EventStore, Position } from '../../event-store/event-store.port.js';
import { decodeTenancyEvent } from '../../stored-events/tenancy-event.codec.js';
import { evolve, initialState } from '../../tenancy/tenancy.decider.js';
import { tenantStreamName } from '../../tenancy/tenant-stream.js';
import type { TenantState, TenantStatus, WorkspaceStatus } from '../../tenancy/tenant.state.js';
import type { PrincipalRef, Role } from '../../tenancy/membership.events.js';

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
  /** Members in the order they joined, with the ids of their groups. */
  readonly members: readonly MemberAtPoint[];
  /** Live groups in creation order, with their members. */
  readonly groups: readonly GroupAtPoint[];
  /** Active grants in grant order, API keys' own roles included. */
  readonly grants: readonly GrantAtPoint[];
}

export interface MemberAtPoint {
  readonly userId: string;
  readonly displayName: string | null;
  readonly groupIds: readonly string[];
}

export interface GroupAtPoint {
  readonly groupId: string;
  readonly name: string;
  readonly members: readonly string[];
}

export interface GrantAtPoint {
  readonly grantId: string;
  readonly principal: PrincipalRef;
  readonly role: Role;
  /** null: the whole tenant. */
  readonly workspaceId: string | null;
  readonly origin: 'grant' | 'apiKey';
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
    ...membershipOf(state),
  };
}

function membershipOf(state: TenantState): Pick<TenantAtPoint, 'members' | 'groups' | 'grants'> {
  const { membership } = state;
  return {
    members: [...membership.members.values()].map(({ userId, displayName }) => ({
      userId,
      displayName,
      groupIds: [...membership.groupsOf(userId)],
    })),
    groups: [...membership.groups.values()].map(({ groupId, name, members }) => ({
      groupId,
      name,
      members: [...members],
    })),
    grants: [...membership.grants.values()].map(({ grantId, principal, role, workspaceId, origin }) => ({
      grantId,
      principal,
      role,
      workspaceId,
      origin: origin === 'api-key' ? 'apiKey' : 'grant',
    })),
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

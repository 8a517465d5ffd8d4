/**
 * What a principal may do on a workspace, answered from the folded tenant state alone (pure, no I/O).
 *
 * A grant on the tenant applies to every workspace, a grant on a workspace to it and its whole
 * subtree; a user also holds the grants of its groups. The effective role on a workspace is the
 * strongest of those grants found on the workspace or any ancestor. A check follows the workspace's
 * lineage once (O(depth), pointers, no lookups by id), then asks each of those scopes for its
 * grants: one lookup for the principal's own, and for its groups the smaller of "the principal's
 * groups" and "the groups granted there". Most scopes hold no grant at all, so a check costs about
 * O(depth + groups of the user), never a scan of the tenant's workspaces, members or grants.
 */
import type { PrincipalRef, PrincipalType, Role } from './membership.events.js';
import {
  principalKey,
  ROLE_RANK,
  TENANT_SCOPE,
  type GrantState,
  type MembershipState,
} from './membership.state.js';
import { invalidField } from './tenancy.errors.js';
import { isRootStillToCome } from './root-workspace.js';
import { tenantNotFound, workspaceNotFound } from './tenant-rules.js';
import {
  findLiveWorkspace,
  type TenantState,
  type WorkspaceLineage,
  type WorkspaceState,
} from './tenant.state.js';

export type Permission =
  | 'workspace.read'
  | 'workspace.write'
  | 'workspace.delete'
  | 'members.manage'
  | 'grants.manage'
  | 'keys.manage';

export interface PermissionRule {
  /** The weakest role that carries the permission. */
  readonly role: Role;
  /** Only a grant on the whole tenant counts (a workspace admin does not manage the tenant's keys). */
  readonly tenantWide: boolean;
}

/** The documented table (docs/access-control.md): one place. */
export const PERMISSIONS: { readonly [P in Permission]: PermissionRule } = {
  'workspace.read': { role: 'viewer', tenantWide: false },
  'workspace.write': { role: 'editor', tenantWide: false },
  'workspace.delete': { role: 'admin', tenantWide: false },
  'members.manage': { role: 'admin', tenantWide: false },
  'grants.manage': { role: 'admin', tenantWide: false },
  'keys.manage': { role: 'admin', tenantWide: true },
};

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && Object.hasOwn(PERMISSIONS, value);
}

export interface GrantPath {
  readonly grantId: string;
  /** Where the grant is: null for the whole tenant. */
  readonly workspaceId: string | null;
  /** The group through which a user holds it; absent for the principal's own grant. */
  readonly group?: string;
}

export interface EffectiveRole {
  readonly role: Role;
  readonly via: GrantPath;
}

export interface CheckAnswer {
  readonly allowed: boolean;
  /** Why nothing is allowed whatever the grants: the tenant is suspended. */
  readonly reason?: 'tenant_suspended';
  /** The strongest role the principal holds here, whether or not it suffices. */
  readonly role?: Role;
  readonly via?: GrantPath;
}

/**
 * The ancestors of a workspace, itself first and the tenant scope last: the scopes whose grants
 * apply to it, nearest first. Throws WORKSPACE_NOT_FOUND for anything but a live workspace.
 */
export function scopesOf(state: TenantState, workspaceId: string | null): string[] {
  if (workspaceId === null) return [TENANT_SCOPE];
  // No grant can be on a root not yet created: a grant on it creates it first.
  if (isRootStillToCome(state, workspaceId)) return [workspaceId, TENANT_SCOPE];
  const workspace = findLiveWorkspace(state, workspaceId);
  if (workspace === undefined) throw workspaceNotFound(workspaceId);
  // The ancestors of a live workspace are live: a parent is never deleted before its children.
  const scopes: string[] = [];
  for (let link: WorkspaceLineage | null = workspace.lineage; link !== null; link = link.parent)
    scopes.push(link.workspaceId);
  scopes.push(TENANT_SCOPE);
  return scopes;
}

/**
 * The strongest role of the principal on the workspace (null: on the tenant as a whole, which only
 * tenant-wide grants reach), and the grant it comes from; undefined when it holds none there.
 * Ties go to the nearest grant, then to the principal's own before a group's, then to the lowest id.
 */
export function effectiveRole(
  state: TenantState,
  principal: PrincipalRef,
  workspaceId: string | null,
): EffectiveRole | undefined {
  return strongestOf(state.membership, principal, scopesOf(state, workspaceId));
}

/** May the principal do this on the workspace (null: on the tenant as a whole)? */
export function checkPermission(
  state: TenantState,
  principal: PrincipalRef,
  permission: Permission,
  workspaceId: string | null,
): CheckAnswer {
  requireTenant(state);
  const rule = PERMISSIONS[permission];
  const scopes = scopesOf(state, workspaceId);
  // A suspended tenant grants nothing until it is reactivated; its grants are all still there.
  if (state.status === 'suspended') return { allowed: false, reason: 'tenant_suspended' };
  // A tenant on its way out grants nothing, as its API keys stop working then.
  if (state.status !== 'active') return { allowed: false };
  const found = strongestOf(state.membership, principal, rule.tenantWide ? [TENANT_SCOPE] : scopes);
  if (found === undefined) return { allowed: false };
  return { allowed: ROLE_RANK[found.role] >= ROLE_RANK[rule.role], role: found.role, via: found.via };
}

function strongestOf(
  membership: MembershipState,
  principal: PrincipalRef,
  scopes: readonly string[],
): EffectiveRole | undefined {
  const best = new BestGrant();
  const groups = principal.type === 'user' ? membership.groupsOf(principal.id) : undefined;
  // Scope by scope, nearest first: most scopes of a workspace hold no grant at all, and where one
  // does, the principal's own grant is one lookup and its groups' the smaller of two walks.
  for (let distance = 0; distance < scopes.length; distance++) {
    const here = membership.grantsHere(scopes[distance]!);
    if (here === undefined) continue;
    const own = here[principal.type].get(principal.id);
    if (own !== undefined) best.offer(own, distance, undefined);
    if (groups === undefined || groups.size === 0 || here.group.size === 0) continue;
    if (groups.size <= here.group.size) {
      for (const groupId of groups) {
        const grant = here.group.get(groupId);
        if (grant !== undefined) best.offer(grant, distance, groupId);
      }
    } else {
      for (const [groupId, grant] of here.group)
        if (groups.has(groupId)) best.offer(grant, distance, groupId);
    }
  }
  return best.result();
}

/** The strongest of the grants seen so far, kept in plain fields: a check allocates nothing per grant. */
class BestGrant {
  private grant: GrantState | undefined;
  private distance = 0;
  private group: string | undefined;

  result(): EffectiveRole | undefined {
    if (this.grant === undefined) return undefined;
    return { role: this.grant.role, via: pathOf(this.grant, this.group) };
  }

  offer(grant: GrantState, distance: number, group: string | undefined): void {
    if (this.grant !== undefined && !wins(grant, distance, group, this.grant, this.distance, this.group))
      return;
    this.grant = grant;
    this.distance = distance;
    this.group = group;
  }
}

/**
 * Whether grant a, found `distanceA` scopes above the workspace (0: on it) and held through
 * `groupA` (undefined: the principal's own), beats grant b: the stronger role, then the nearer
 * scope, then the principal's own over a group's, then the lower grant id. The one tie rule of
 * checks and access listings.
 */
function wins(
  a: GrantState,
  distanceA: number,
  groupA: string | undefined,
  b: GrantState,
  distanceB: number,
  groupB: string | undefined,
): boolean {
  const byRole = ROLE_RANK[a.role] - ROLE_RANK[b.role];
  if (byRole !== 0) return byRole > 0;
  if (distanceA !== distanceB) return distanceA < distanceB;
  if ((groupA === undefined) !== (groupB === undefined)) return groupA === undefined;
  return a.grantId < b.grantId;
}

interface Candidate {
  readonly grant: GrantState;
  /** 0: on the workspace itself; larger: further up, the tenant scope last. */
  readonly distance: number;
  readonly group: string | undefined;
}

function better(current: Candidate | undefined, next: Candidate): Candidate {
  if (current === undefined) return next;
  return wins(next.grant, next.distance, next.group, current.grant, current.distance, current.group)
    ? next
    : current;
}

function pathOf(grant: GrantState, group: string | undefined): GrantPath {
  const { grantId, workspaceId } = grant;
  return group === undefined ? { grantId, workspaceId } : { grantId, workspaceId, group };
}

function requireTenant(state: TenantState): void {
  if (state.status === 'none' || state.status === 'deleted') {
    throw tenantNotFound(state.tenantId ?? 'unknown');
  }
}

/**
 * The workspaces on which the principal holds at least `role`, as the tops of the subtrees its
 * grants cover ('all' when a tenant-wide grant does). Tops inside another top are left out.
 * O(grants of the principal and its groups x depth).
 */
export function reachableTops(
  state: TenantState,
  principal: PrincipalRef,
  role: Role,
  tenantWideOnly = false,
): 'all' | string[] {
  requireTenant(state);
  if (state.status !== 'active') return [];
  const membership = state.membership;
  const holders = [membership.grantsOf(principal.type, principal.id)];
  if (principal.type === 'user') {
    for (const groupId of membership.groupsOf(principal.id))
      holders.push(membership.grantsOf('group', groupId));
  }
  const tops = new Set<string>();
  for (const grants of holders) {
    for (const [scope, grant] of grants) {
      if (ROLE_RANK[grant.role] < ROLE_RANK[role]) continue;
      if (scope === TENANT_SCOPE) return 'all';
      if (!tenantWideOnly) tops.add(scope);
    }
  }
  return [...tops].filter((top) => {
    let parent = state.workspaces.get(top)?.parentWorkspaceId ?? null;
    while (parent !== null) {
      if (tops.has(parent)) return false;
      parent = state.workspaces.get(parent)?.parentWorkspaceId ?? null;
    }
    return true;
  });
}

/**
 * Every live workspace of the subtrees under `tops`, in creation order. O(size of the subtrees), with
 * an explicit stack: a tree can be deeper than the call stack.
 */
export function workspacesUnder(state: TenantState, tops: readonly string[]): WorkspaceState[] {
  const found: WorkspaceState[] = [];
  const stack = [...tops];
  while (stack.length > 0) {
    const workspace = findLiveWorkspace(state, stack.pop()!);
    if (workspace === undefined) continue;
    found.push(workspace);
    for (const child of state.liveChildren(workspace.workspaceId)) stack.push(child);
  }
  return found.sort((a, b) => a.seq - b.seq);
}

/**
 * The first `count` live workspaces of the subtrees under `tops`, in creation order, without
 * collecting the subtrees: while every child was created after its parent, a frontier ordered by
 * creation (a binary heap), seeded with the tops and refilled with each taken workspace's children,
 * yields them in order. Costs O((count + their children) x log(frontier)), not O(size of the
 * subtrees). Once a move has put a workspace under a younger parent that order no longer holds, and
 * the subtrees are collected and sorted instead.
 */
export function firstWorkspacesUnder(
  state: TenantState,
  tops: readonly string[],
  count: number,
): WorkspaceState[] {
  if (!state.parentsPrecedeChildren) return workspacesUnder(state, tops).slice(0, count);
  const frontier = new SeqHeap();
  for (const top of tops) {
    const workspace = findLiveWorkspace(state, top);
    if (workspace !== undefined) frontier.push(workspace);
  }
  const found: WorkspaceState[] = [];
  while (found.length < count) {
    const next = frontier.pop();
    if (next === undefined) break;
    found.push(next);
    for (const child of state.liveChildren(next.workspaceId)) {
      const workspace = state.workspaces.get(child);
      if (workspace !== undefined) frontier.push(workspace);
    }
  }
  return found;
}

/** A binary min-heap of workspaces by creation ordinal. */
class SeqHeap {
  private readonly items: WorkspaceState[] = [];

  push(item: WorkspaceState): void {
    const items = this.items;
    let index = items.push(item) - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (items[parent]!.seq <= item.seq) break;
      items[index] = items[parent]!;
      index = parent;
    }
    items[index] = item;
  }

  pop(): WorkspaceState | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && items[right]!.seq < items[left]!.seq ? right : left;
      if (items[child]!.seq >= last.seq) break;
      items[index] = items[child]!;
      index = child;
    }
    items[index] = last;
    return top;
  }
}

export interface AccessEntry {
  readonly principal: PrincipalRef;
  readonly role: Role;
  readonly via: GrantPath;
  /** false when the grant is on the workspace itself, true when it comes from above. */
  readonly inherited: boolean;
}

const PRINCIPAL_ORDER: { readonly [T in PrincipalType]: number } = { user: 0, group: 1, apiKey: 2 };

/**
 * Everyone with a role on the workspace, each with the strongest role it holds here and the grant it
 * comes from: the grants on the workspace and its ancestors, and for each group grant the group's
 * members. Ordered by principal type, then id. O(grants on the ancestors + members of their groups).
 */
export function accessAt(state: TenantState, workspaceId: string): AccessEntry[] {
  requireTenant(state);
  const scopes = scopesOf(state, workspaceId);
  if (state.status !== 'active') return [];
  const membership = state.membership;
  const best = new Map<string, { principal: PrincipalRef; candidate: Candidate }>();
  const offer = (principal: PrincipalRef, candidate: Candidate) => {
    const key = principalKey(principal.type, principal.id);
    const current = best.get(key);
    const chosen = better(current?.candidate, candidate);
    if (chosen !== current?.candidate) best.set(key, { principal, candidate: chosen });
  };
  scopes.forEach((scope, distance) => {
    for (const grant of membership.grantsOn(scope)) {
      offer(grant.principal, { grant, distance, group: undefined });
      if (grant.principal.type !== 'group') continue;
      for (const userId of membership.groups.get(grant.principal.id)?.members ?? []) {
        offer({ type: 'user', id: userId }, { grant, distance, group: grant.principal.id });
      }
    }
  });
  return [...best.values()]
    .map(({ principal, candidate }) => ({
      principal,
      role: candidate.grant.role,
      via: pathOf(candidate.grant, candidate.group),
      inherited: candidate.distance > 0,
    }))
    .sort((a, b) => comparePrincipals(a.principal, b.principal));
}

/** The order of access listings: users, then groups, then API keys, each by id. */
export function comparePrincipals(a: PrincipalRef, b: PrincipalRef): number {
  return PRINCIPAL_ORDER[a.type] - PRINCIPAL_ORDER[b.type] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** For callers validating input before a check: the principal types a check accepts. */
export function isPrincipalType(value: unknown): value is PrincipalType {
  return value === 'user' || value === 'group' || value === 'apiKey';
}

export function requireKnownPermission(value: unknown): Permission {
  if (!isPermission(value)) {
    throw invalidField('permission', `must be one of ${Object.keys(PERMISSIONS).join(', ')}`);
  }
  return value;
}

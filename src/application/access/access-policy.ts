import type { Placement } from './placement.js';
import type { Principal } from './principal.js';

/**
 * What a route asks of its caller. Every /v1 route declares exactly one; docs/access-control.md
 * has the full matrix.
 */
export type Permission =
  | 'tenant:create'
  | 'tenant:list'
  | 'tenant:read'
  | 'tenant:history'
  | 'tenant:delete'
  /** Suspend, reactivate, rename, set quotas: the operator's alone. */
  | 'tenant:manage'
  | 'workspace:list'
  | 'workspace:read'
  /** The target is the parent of the new workspace. */
  | 'workspace:create'
  /** Rename or delete; the target is the workspace itself. */
  | 'workspace:change'
  /** The target is the workspace moved; the destination is its new parent. */
  | 'workspace:move'
  | 'api-key:manage'
  /** Add, change and remove members and groups: tenant-wide. */
  | 'member:manage'
  | 'member:read'
  /** Grant or revoke; the target is the grant's workspace (none: a tenant-wide grant). */
  | 'grant:manage'
  | 'grant:read'
  /** Permission checks and the lookups (whose workspaces, who has access here). */
  | 'permission:check'
  /** The event feed; the target tenant is the feed's tenantId filter, when given. */
  | 'events:read'
  | 'events:schemas';

export interface AccessTarget {
  readonly tenantId?: string;
  readonly workspaceId?: string;
  /** A second workspace the request acts on: where a move puts the workspace. */
  readonly destinationWorkspaceId?: string;
  /** An existing grant named by the request; its scope is where the request acts. */
  readonly grantId?: string;
}

/** Where the target workspace lies relative to a workspace key's own workspace. */
export type { Placement };

export type AccessDecision =
  | {
      readonly kind: 'allow';
      /** Lists must be narrowed to this workspace's subtree; null: no narrowing. */
      readonly subtree: string | null;
    }
  /** Answered as 404: the caller may not learn whether the resource exists. */
  | { readonly kind: 'not-found'; readonly resource: 'tenant' | 'workspace' | 'grant' }
  /** Answered as 403: only for resources the caller can already see, so it confirms nothing. */
  | { readonly kind: 'forbidden' };

const ALLOW_ALL: AccessDecision = { kind: 'allow', subtree: null };
const FORBIDDEN: AccessDecision = { kind: 'forbidden' };

const OPERATOR_ONLY: ReadonlySet<Permission> = new Set([
  'tenant:create',
  'tenant:list',
  'tenant:delete',
  'tenant:manage',
]);
const READS: ReadonlySet<Permission> = new Set([
  'tenant:read',
  'tenant:history',
  'workspace:list',
  'workspace:read',
  'member:read',
  'grant:read',
  'permission:check',
  'events:read',
]);
const WORKSPACE_PERMISSIONS: ReadonlySet<Permission> = new Set([
  'workspace:list',
  'workspace:read',
  'workspace:create',
  'workspace:change',
  'workspace:move',
  'grant:manage',
  'grant:read',
  'permission:check',
]);
/** Lists and lookups that a workspace key may ask without naming a workspace: narrowed to its subtree. */
const NARROWABLE: ReadonlySet<Permission> = new Set(['workspace:list', 'grant:read', 'permission:check']);

/**
 * The one access decision of the service. Pure: the caller supplies where a workspace lies
 * (placementOf is asked only for workspace keys of the target tenant).
 *
 * Order matters for what a refusal reveals: a foreign tenant is 'not-found' before anything else is
 * looked at, and a workspace outside a key's subtree is 'not-found' before its role is considered,
 * so neither answer depends on whether the resource exists.
 */
export function authorize(
  principal: Principal,
  permission: Permission,
  target: AccessTarget,
  placementOf: (workspaceId: string) => Placement,
): AccessDecision {
  if (principal.kind === 'operator') return ALLOW_ALL;
  if (permission === 'events:schemas') return ALLOW_ALL;
  if (OPERATOR_ONLY.has(permission) && target.tenantId === undefined) return FORBIDDEN;
  // Every other permission is about one tenant; without one (the unfiltered event feed) it spans all.
  if (target.tenantId === undefined) return FORBIDDEN;
  if (target.tenantId !== principal.tenantId) return { kind: 'not-found', resource: 'tenant' };
  if (OPERATOR_ONLY.has(permission)) return FORBIDDEN;

  const mayWrite = principal.role === 'admin';
  if (principal.workspaceId === null) {
    if (READS.has(permission)) return ALLOW_ALL;
    return mayWrite ? ALLOW_ALL : FORBIDDEN;
  }

  // A workspace key sees nothing of its tenant beyond its subtree: no tenant record, no history,
  // no feed (each would show other workspaces), no keys, no members or groups.
  if (!WORKSPACE_PERMISSIONS.has(permission)) return FORBIDDEN;
  const narrowed: AccessDecision = { kind: 'allow', subtree: principal.workspaceId };
  if (target.grantId !== undefined) {
    // A grant outside the subtree (a tenant-wide one included) is as unknown to it as a missing one.
    const placement = target.workspaceId === undefined ? 'outside' : placementOf(target.workspaceId);
    if (placement === 'outside') return { kind: 'not-found', resource: 'grant' };
    return mayWrite || permission !== 'grant:manage' ? narrowed : FORBIDDEN;
  }
  if (target.workspaceId === undefined) {
    // A list or lookup without a workspace filter is narrowed instead; a tenant-wide grant is
    // beyond a workspace key, which can see that the tenant exists.
    if (NARROWABLE.has(permission)) return narrowed;
    return permission === 'grant:manage' ? FORBIDDEN : { kind: 'not-found', resource: 'workspace' };
  }
  const placement = placementOf(target.workspaceId);
  if (placement === 'outside') return { kind: 'not-found', resource: 'workspace' };
  switch (permission) {
    case 'workspace:list':
    case 'workspace:read':
    case 'grant:read':
    case 'permission:check':
      return narrowed;
    case 'workspace:create':
    case 'grant:manage':
      return mayWrite ? narrowed : FORBIDDEN;
    case 'workspace:change':
      // Its top is out of reach: renaming it would collide with (and so reveal) sibling names
      // outside the subtree, and deleting it would remove the key's own scope.
      return mayWrite && placement === 'inside' ? narrowed : FORBIDDEN;
    case 'workspace:move': {
      // An admin of both the old parent's and the new parent's subtree: the moved workspace lies
      // strictly inside the key's subtree (so its parent is in it), and so does its destination (or
      // is the top). A destination outside is as unknown to the key as a missing one.
      const destination =
        target.destinationWorkspaceId === undefined ? 'outside' : placementOf(target.destinationWorkspaceId);
      if (destination === 'outside') return { kind: 'not-found', resource: 'workspace' };
      return mayWrite && placement === 'inside' ? narrowed : FORBIDDEN;
    }
    default:
      return FORBIDDEN;
  }
}

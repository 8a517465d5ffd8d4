import { findLiveWorkspace, type TenantState } from '../../tenancy/tenant.state.js';
import { authorize, type AccessDecision, type AccessTarget, type Permission } from './access-policy.js';
import { placementOf } from './placement.js';
import type { Principal } from './principal.js';

/** The key's workspace has been deleted: the key has no scope left and authenticates nothing. */
export type AccessOutcome = AccessDecision | { readonly kind: 'scope-gone' };

/** One request's question to the access policy: who, what, on which target. */
export interface AccessRequest {
  readonly principal: Principal;
  readonly permission: Permission;
  readonly target: AccessTarget;
  /** The workspace ids the caller itself sent, the only ones a refusal may name. */
  readonly sentWorkspaceIds: readonly string[];
}

/**
 * A workspace key asking about its own tenant, the one case decided on the tenant's state: the
 * tenant and the key's workspace.
 */
export function scopeNeedingState({
  principal,
  target,
}: AccessRequest): { readonly tenantId: string; readonly scopeId: string } | undefined {
  return principal.kind === 'api-key' &&
    principal.workspaceId !== null &&
    target.tenantId === principal.tenantId
    ? { tenantId: principal.tenantId, scopeId: principal.workspaceId }
    : undefined;
}

/**
 * The access decision on a given state of the target tenant. In front of a request it is asked on
 * the state as the request finds it; a command made with a workspace key is decided only if it is
 * still allowed on the very state the command is decided on (tenant-command.executor.ts): a move
 * or a deletion that lands while the command waits its turn can take the target out of the key's
 * subtree, and the command is then refused as the request would be refused now.
 */
export function decideOnState(state: TenantState | undefined, request: AccessRequest): AccessOutcome {
  const { principal, permission, target } = request;
  const scopeId = scopeNeedingState(request)?.scopeId;
  if (scopeId === undefined || state === undefined)
    return authorize(principal, permission, target, () => 'outside');
  if (findLiveWorkspace(state, scopeId) === undefined) return { kind: 'scope-gone' };
  return authorize(principal, permission, withGrantScope(state, target), (workspaceId) =>
    placementOf(state, scopeId, workspaceId),
  );
}

/** A request about a grant acts where the grant is: its workspace (none for a tenant-wide or unknown grant). */
function withGrantScope(state: TenantState, target: AccessTarget): AccessTarget {
  if (target.grantId === undefined) return target;
  const workspaceId = state.membership.grants.get(target.grantId)?.workspaceId ?? undefined;
  return { ...target, ...(workspaceId === undefined ? {} : { workspaceId }) };
}

import { Injectable } from '@nestjs/common';
import { findLiveWorkspace, type TenantState } from '../../tenancy/tenant.state.js';
import { TenantCommandExecutor } from '../commands/tenant-command.executor.js';
import { placementOf } from '../../tenancy/api-key-standing.js';
import { authorize, type AccessDecision, type AccessTarget, type Permission } from './access-policy.js';
import type { Principal } from './principal.js';

/** The key's workspace has been deleted: the key has no scope left and authenticates nothing. */
export type AccessOutcome = AccessDecision | { readonly kind: 'scope-gone' };

/**
 * Feeds the access policy the facts it needs. Subtree checks use the command executor's folded
 * tenant state, not the read model's path column: the state is caught up with the stream on every
 * read (one indexed query for the events since the cached revision, usually none), so a workspace
 * created a moment ago is found at once and one just deleted is gone at once, where the read model
 * could lag and answer a false 404 or a stale yes. Only workspace keys pay for it; the fold itself
 * is shared with the write path's cache.
 */
@Injectable()
export class AccessControl {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async decide(principal: Principal, permission: Permission, target: AccessTarget): Promise<AccessOutcome> {
    if (
      principal.kind !== 'api-key' ||
      principal.workspaceId === null ||
      target.tenantId !== principal.tenantId
    ) {
      return authorize(principal, permission, target, () => 'outside');
    }
    const { state } = await this.tenants.read(principal.tenantId);
    const scopeId = principal.workspaceId;
    if (findLiveWorkspace(state, scopeId) === undefined) return { kind: 'scope-gone' };
    return authorize(principal, permission, withGrantScope(state, target), (workspaceId) =>
      placementOf(state, scopeId, workspaceId),
    );
  }
}

/** A request about a grant acts where the grant is: its workspace (none for a tenant-wide or unknown grant). */
function withGrantScope(state: TenantState, target: AccessTarget): AccessTarget {
  if (target.grantId === undefined) return target;
  const workspaceId = state.membership.grants.get(target.grantId)?.workspaceId ?? undefined;
  return { ...target, ...(workspaceId === undefined ? {} : { workspaceId }) };
}

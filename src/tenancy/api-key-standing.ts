import type { TenancyCommand } from './tenancy.commands.js';
import { ActingApiKeyInactive, TenancyRuleViolation } from './tenancy.errors.js';
import { rootWorkspaceIdOf } from './root-workspace.js';
import { workspaceNotFound } from './tenant-rules.js';
import { findLiveWorkspace, type TenantState } from './tenant.state.js';

/**
 * A command made with an API key is decided only while the key may still act, judged on the very
 * state (and so under the same expected revision) the command is decided on: the key is not
 * revoked, its workspace (if it has one) is not deleted, and the tenant's deletion has not started.
 * The check in front of each request (the key registry, and AccessControl for a workspace key's
 * scope) finds the same from its own data, but before the command waits its turn on the tenant: a
 * revocation that lands in between refuses the command here, instead of letting it be appended
 * after the ApiKeyRevoked.
 */
export function requireActingApiKey(state: TenantState, apiKeyId: string): void {
  const key = state.apiKeys.get(apiKeyId);
  const mayAct =
    key !== undefined &&
    (state.status === 'active' || state.status === 'suspended') &&
    key.status === 'active' &&
    (key.workspaceId === null || findLiveWorkspace(state, key.workspaceId) !== undefined);
  if (!mayAct) throw new ActingApiKeyInactive(apiKeyId);
}

/**
 * Where a workspace lies relative to a workspace key's own workspace: the key's workspace itself
 * ('top'), strictly below it ('inside'), or anywhere else, unknown and deleted included. O(depth).
 */
export type Placement = 'top' | 'inside' | 'outside';

export function placementOf(state: TenantState, scopeId: string, workspaceId: string): Placement {
  let current = findLiveWorkspace(state, workspaceId);
  if (current === undefined) return 'outside';
  if (current.workspaceId === scopeId) return 'top';
  while (current !== undefined && current.parentWorkspaceId !== null) {
    if (current.parentWorkspaceId === scopeId) return 'inside';
    current = state.workspaces.get(current.parentWorkspaceId);
  }
  return 'outside';
}

/**
 * A workspace key's command acts inside the key's subtree on the state it is decided on, as the
 * check in front of the request found it did. That check runs before the command waits its turn on
 * the tenant: a move (or a deletion) decided in between can take the target out of the subtree, and
 * the command is then refused here exactly as the check would refuse it now (404, the target being
 * as unknown to the key as a missing one), instead of acting outside the key's reach.
 *
 * Only the commands a workspace key may send at all are looked at; the others are refused in front
 * by the key's kind alone, which no later event changes.
 */
export function requireWithinApiKeyScope(
  state: TenantState,
  apiKeyId: string,
  command: TenancyCommand,
): void {
  const scopeId = state.apiKeys.get(apiKeyId)?.workspaceId ?? null;
  if (scopeId === null) return;
  const reaches = (workspaceId: string, topToo: boolean): boolean => {
    const placement = placementOf(state, scopeId, workspaceId);
    return placement === 'inside' || (topToo && placement === 'top');
  };
  const require = (workspaceId: string, topToo: boolean): void => {
    if (!reaches(workspaceId, topToo)) throw workspaceNotFound(workspaceId);
  };
  switch (command.type) {
    case 'CreateWorkspace':
      require(command.parentWorkspaceId ?? rootWorkspaceIdOf(command.tenantId), true);
      return;
    case 'RenameWorkspace':
    case 'DeleteWorkspace':
      // The key's own top is refused in front (403) and stays its top: only "outside" can appear here.
      if (placementOf(state, scopeId, command.workspaceId) === 'outside')
        throw workspaceNotFound(command.workspaceId);
      return;
    case 'MoveWorkspace':
      if (placementOf(state, scopeId, command.workspaceId) === 'outside')
        throw workspaceNotFound(command.workspaceId);
      require(command.parentWorkspaceId, true);
      return;
    case 'GrantRole':
      if (command.workspaceId === undefined || command.workspaceId === null) return;
      require(command.workspaceId, true);
      return;
    case 'RevokeRole': {
      const workspaceId = state.membership.grants.get(command.grantId)?.workspaceId ?? null;
      if (workspaceId === null || !reaches(workspaceId, true))
        throw new TenancyRuleViolation('GRANT_NOT_FOUND', `No grant ${command.grantId}.`);
      return;
    }
    default:
      return;
  }
}

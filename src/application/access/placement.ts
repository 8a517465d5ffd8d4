import { findLiveWorkspace, type TenantState } from '../../tenancy/tenant.state.js';

/**
 * Where a workspace lies relative to a workspace key's own workspace: the key's workspace itself
 * ('top'), strictly below it ('inside'), or anywhere else, unknown and deleted included.
 */
export type Placement = 'top' | 'inside' | 'outside';

/** The placement of a workspace in the given state, walking up its ancestors: O(depth). */
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

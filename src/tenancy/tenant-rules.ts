/** Refusals shared by the deciders of the tenant aggregate's areas (workspaces, keys, membership). */
import { isRootStillToCome, rootWorkspaceCreated } from './root-workspace.js';
import { TenancyRuleViolation } from './tenancy.errors.js';
import type { WorkspaceCreated } from './tenancy.events.js';
import {
  deletingAncestorOrSelf,
  findLiveWorkspace,
  type TenantState,
  type WorkspaceState,
} from './tenant.state.js';

export function requireActiveTenant(state: TenantState, tenantId: string): void {
  switch (state.status) {
    case 'active':
      return;
    case 'none':
    case 'deleted':
      throw tenantNotFound(tenantId);
    case 'suspended':
      throw tenantSuspended(tenantId);
    case 'deleting':
      throw new TenancyRuleViolation('TENANT_DELETING', `tenant ${tenantId} is being deleted`);
    default: {
      const _exhaustive: never = state.status;
      throw new Error('unreachable');
    }
  }
}

/** A live workspace outside any cascade under way: one that may still be given keys or grants. */
export function requireWorkspaceOpenToChange(state: TenantState, workspaceId: string): WorkspaceState {
  const workspace = findLiveWorkspace(state, workspaceId);
  if (workspace === undefined) throw workspaceNotFound(workspaceId);
  const deleting = deletingAncestorOrSelf(state, workspace);
  if (deleting !== undefined) throw workspaceDeleting(deleting.workspaceId);
  return workspace;
}

/**
 * What must come before a key or a grant on the workspace: the root's WorkspaceCreated when the
 * workspace is the root still to come (appended in the same append, right before), nothing for a
 * workspace that is live and outside any cascade; anything else is refused.
 */
export function workspaceReadyForChange(
  state: TenantState,
  tenantId: string,
  workspaceId: string,
): WorkspaceCreated[] {
  if (isRootStillToCome(state, workspaceId)) return [rootWorkspaceCreated(tenantId)];
  requireWorkspaceOpenToChange(state, workspaceId);
  return [];
}

export function tenantSuspended(tenantId: string): TenancyRuleViolation {
  return new TenancyRuleViolation(
    'TENANT_SUSPENDED',
    `tenant ${tenantId} is suspended; only reactivation, deletion, revocation of API keys and erasure of personal data are accepted`,
  );
}

export function tenantNotFound(tenantId: string): TenancyRuleViolation {
  return new TenancyRuleViolation('TENANT_NOT_FOUND', `No tenant ${tenantId}.`);
}

export function workspaceNotFound(workspaceId: string): TenancyRuleViolation {
  return new TenancyRuleViolation('WORKSPACE_NOT_FOUND', `No workspace ${workspaceId}.`);
}

export function workspaceDeleting(deletingWorkspaceId: string): TenancyRuleViolation {
  return new TenancyRuleViolation('WORKSPACE_DELETING', `workspace ${deletingWorkspaceId} is being deleted`);
}

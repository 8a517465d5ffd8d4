import type { WorkspaceCreated } from './tenancy.events.js';
import { findLiveWorkspace, type TenantState } from './tenant.state.js';
import { uuidV5 } from './uuid.js';

/** The one place that names the root workspace a tenant starts with. Users may rename it later. */
export const ROOT_WORKSPACE_NAME = 'Root';

/**
 * Derived, not generated: the root bootstrap process manager and the commands that create the root
 * on demand (a workspace under it, a key or a grant on it) must agree on it, and a redelivered
 * bootstrap must not create a second root.
 */
export function rootWorkspaceIdOf(tenantId: string): string {
  return uuidV5('root', tenantId);
}

/** The event that gives a tenant its root workspace: the same wherever a root comes into being. */
export function rootWorkspaceCreated(tenantId: string): WorkspaceCreated {
  return {
    type: 'WorkspaceCreated',
    data: {
      tenantId,
      workspaceId: rootWorkspaceIdOf(tenantId),
      parentWorkspaceId: null,
      name: ROOT_WORKSPACE_NAME,
      isRoot: true,
    },
  };
}

/**
 * Whether the workspace named is the tenant's root while its WorkspaceCreated is still to come. The
 * 201 that created the tenant gave the root's id, and the process manager appends the root after
 * that answer, so a client may name it first. A command on it then creates the root in its own
 * append (one root whichever comes first), and a check on it sees the tenant-wide grants alone.
 */
export function isRootStillToCome(state: TenantState, workspaceId: string): boolean {
  return (
    state.status !== 'none' &&
    state.rootWorkspaceId === undefined &&
    state.tenantId !== undefined &&
    workspaceId === rootWorkspaceIdOf(state.tenantId)
  );
}

/**
 * Whether the workspace named is the tenant's root, and the tenant has it or is about to: created
 * and not deleted, or still to come. A read model that does not show it yet is behind, not right:
 * the 201 named the root, and gave no position of its creation to wait for.
 */
export function isLiveOrComingRoot(state: TenantState, workspaceId: string): boolean {
  return (
    isRootStillToCome(state, workspaceId) ||
    (workspaceId === state.rootWorkspaceId && findLiveWorkspace(state, workspaceId) !== undefined)
  );
}

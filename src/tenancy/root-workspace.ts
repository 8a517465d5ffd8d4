import type { WorkspaceCreated } from './tenancy.events.js';
import { uuidV5 } from './uuid.js';

/** The one place that names the root workspace a tenant starts with. Users may rename it later. */
export const ROOT_WORKSPACE_NAME = 'Root';

/**
 * Derived, not generated: the root bootstrap process manager and CreateWorkspace (which creates the
 * root on demand) must agree on it, and a redelivered bootstrap must not create a second root.
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

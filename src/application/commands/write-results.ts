import type { Position } from '../../event-store/event-store.port.js';
import type { WorkspaceState } from '../../tenancy/tenant.state.js';

/** What a write answers: the resource, the stream revision (ETag) and the log position to wait for. */
export interface WriteResult<Body> {
  /** false when the command repeated an earlier one and changed nothing. */
  readonly changed: boolean;
  readonly body: Body;
  readonly revision: number;
  readonly position: Position | undefined;
}

export interface TenantBody {
  readonly tenantId: string;
  readonly name: string;
  readonly status: 'active' | 'suspended' | 'deleting' | 'deleted';
  readonly rootWorkspaceId: string;
}

export interface WorkspaceBody {
  readonly workspaceId: string;
  readonly tenantId: string;
  readonly parentWorkspaceId: string | null;
  readonly name: string;
  readonly isRoot: boolean;
}

export function workspaceBody(tenantId: string, workspace: WorkspaceState): WorkspaceBody {
  return {
    workspaceId: workspace.workspaceId,
    tenantId,
    parentWorkspaceId: workspace.parentWorkspaceId,
    name: workspace.name,
    isRoot: workspace.isRoot,
  };
}

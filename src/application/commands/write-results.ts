import type { Position } from '../../event-store/event-store.port.js';
import type { WorkspaceState } from '../../tenancy/tenant.state.js';
import type { CommandOutcome, TenantCommandExecutor } from './tenant-command.executor.js';

/** What a write answers: the resource, the stream revision (ETag) and the log position to wait for. */
export interface WriteResult<Body> {
  /** false when the command repeated an earlier one and changed nothing. */
  readonly changed: boolean;
  readonly body: Body;
  readonly revision: number;
  readonly position: Position | undefined;
}

/**
 * A command's outcome as a write answers it: a repeat that appended nothing reports the position of
 * the tenant's last event, so a read with that Min-Position still sees what the repeat confirmed.
 */
export async function writeResult<Body>(
  tenants: TenantCommandExecutor,
  tenantId: string,
  outcome: CommandOutcome,
  body: Body,
): Promise<WriteResult<Body>> {
  return {
    changed: outcome.events.length > 0,
    body,
    revision: outcome.revision ?? 0,
    position: outcome.position ?? (await tenants.positionAt(tenantId)),
  };
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

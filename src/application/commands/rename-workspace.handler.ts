import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { findLiveWorkspace } from '../../tenancy/tenant.state.js';
import { TenantCommandExecutor } from './tenant-command.executor.js';
import { workspaceBody, type WorkspaceBody, type WriteResult } from './write-results.js';
import { RenameWorkspaceCommand } from './rename-workspace.command.js';

@CommandHandler(RenameWorkspaceCommand)
export class RenameWorkspaceHandler implements ICommandHandler<
  RenameWorkspaceCommand,
  WriteResult<WorkspaceBody>
> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute(command: RenameWorkspaceCommand): Promise<WriteResult<WorkspaceBody>> {
    const { tenantId, workspaceId, name, ifMatch, context } = command;
    const outcome = await this.tenants.execute(
      { type: 'RenameWorkspace', tenantId, workspaceId, name },
      context,
      { ifMatch },
    );
    const workspace = findLiveWorkspace(outcome.state, workspaceId);
    if (!workspace || outcome.revision === undefined)
      throw new Error(`workspace ${workspaceId} missing after its rename`);
    return {
      changed: outcome.events.length > 0,
      body: workspaceBody(tenantId, workspace),
      revision: outcome.revision,
      position: outcome.position ?? (await this.tenants.positionAt(tenantId)),
    };
  }
}

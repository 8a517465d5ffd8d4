import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { findLiveWorkspace } from '../../tenancy/tenant.state.js';
import { TenantCommandExecutor } from './tenant-command.executor.js';
import { workspaceBody, type WorkspaceBody, type WriteResult } from './write-results.js';
import { CreateWorkspaceCommand } from './create-workspace.command.js';

@CommandHandler(CreateWorkspaceCommand)
export class CreateWorkspaceHandler implements ICommandHandler<
  CreateWorkspaceCommand,
  WriteResult<WorkspaceBody>
> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute(command: CreateWorkspaceCommand): Promise<WriteResult<WorkspaceBody>> {
    const { tenantId, workspaceId, parentWorkspaceId, name, ifMatch, context } = command;
    const outcome = await this.tenants.execute(
      {
        type: 'CreateWorkspace',
        tenantId,
        workspaceId,
        name,
        ...(parentWorkspaceId ? { parentWorkspaceId } : {}),
      },
      context,
      { ifMatch },
    );
    const workspace = findLiveWorkspace(outcome.state, workspaceId);
    if (!workspace || outcome.revision === undefined)
      throw new Error(`workspace ${workspaceId} missing after its creation`);
    return {
      changed: outcome.events.length > 0,
      body: workspaceBody(tenantId, workspace),
      revision: outcome.revision,
      position: outcome.position ?? (await this.tenants.positionAt(tenantId)),
    };
  }
}

import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { TenantCommandExecutor } from './tenant-command.executor.js';
import type { WriteResult } from './write-results.js';
import { DeleteWorkspaceCommand, type DeleteWorkspaceBody } from './delete-workspace.command.js';

@CommandHandler(DeleteWorkspaceCommand)
export class DeleteWorkspaceHandler implements ICommandHandler<
  DeleteWorkspaceCommand,
  WriteResult<DeleteWorkspaceBody>
> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({
    tenantId,
    workspaceId,
    cascade,
    ifMatch,
    context,
  }: DeleteWorkspaceCommand): Promise<WriteResult<DeleteWorkspaceBody>> {
    const outcome = await this.tenants.execute(
      { type: 'DeleteWorkspace', tenantId, workspaceId, cascade },
      context,
      { ifMatch },
    );
    const status = outcome.state.workspaces.get(workspaceId)?.status === 'deleted' ? 'deleted' : 'deleting';
    return {
      changed: outcome.events.length > 0,
      body: { tenantId, workspaceId, status },
      revision: outcome.revision ?? 0,
      position: outcome.position ?? (await this.tenants.positionAt(tenantId)),
    };
  }
}

import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { TenantCommandExecutor } from './tenant-command.executor.js';
import type { WriteResult } from './write-results.js';
import { DeleteTenantCommand, type DeleteTenantBody } from './delete-tenant.command.js';

@CommandHandler(DeleteTenantCommand)
export class DeleteTenantHandler implements ICommandHandler<
  DeleteTenantCommand,
  WriteResult<DeleteTenantBody>
> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({ tenantId, ifMatch, context }: DeleteTenantCommand): Promise<WriteResult<DeleteTenantBody>> {
    const outcome = await this.tenants.execute({ type: 'DeleteTenant', tenantId }, context, { ifMatch });
    return {
      changed: outcome.events.length > 0,
      body: { tenantId, status: outcome.state.status === 'deleted' ? 'deleted' : 'deleting' },
      revision: outcome.revision ?? 0,
      position: outcome.position ?? (await this.tenants.positionAt(tenantId)),
    };
  }
}

import { randomUUID } from 'node:crypto';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { scopeKeyOf } from '../../tenancy/membership.state.js';
import { TenantCommandExecutor } from '../commands/tenant-command.executor.js';
import { writeResult, type WriteResult } from '../commands/write-results.js';
import { GrantRoleCommand, RevokeRoleCommand } from './grant.commands.js';
import { grantBody, type GrantBody } from './membership-bodies.js';

@CommandHandler(GrantRoleCommand)
export class GrantRoleHandler implements ICommandHandler<GrantRoleCommand, WriteResult<GrantBody>> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({
    tenantId,
    principal,
    role,
    workspaceId,
    ifMatch,
    context,
  }: GrantRoleCommand): Promise<WriteResult<GrantBody>> {
    const outcome = await this.tenants.execute(
      { type: 'GrantRole', tenantId, grantId: randomUUID(), principal, role, workspaceId },
      context,
      { ifMatch },
    );
    // A repeat answers with the grant already there (one grant per principal and scope).
    const grant = outcome.state.membership
      .grantsOf(principal.type, principal.id)
      .get(scopeKeyOf(workspaceId));
    if (grant === undefined) throw new Error('grant missing after it was made');
    return writeResult(this.tenants, tenantId, outcome, grantBody(tenantId, grant));
  }
}

@CommandHandler(RevokeRoleCommand)
export class RevokeRoleHandler implements ICommandHandler<RevokeRoleCommand> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({ tenantId, grantId, ifMatch, context }: RevokeRoleCommand) {
    const outcome = await this.tenants.execute({ type: 'RevokeRole', tenantId, grantId }, context, {
      ifMatch,
    });
    return writeResult(this.tenants, tenantId, outcome, { tenantId, grantId });
  }
}

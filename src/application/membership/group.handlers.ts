import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { TenantCommandExecutor } from '../commands/tenant-command.executor.js';
import { writeResult, type WriteResult } from '../commands/write-results.js';
import {
  AddGroupMemberCommand,
  CreateGroupCommand,
  DeleteGroupCommand,
  RemoveGroupMemberCommand,
  RenameGroupCommand,
} from './group.commands.js';
import { groupBody, type GroupBody } from './membership-bodies.js';

@CommandHandler(CreateGroupCommand)
export class CreateGroupHandler implements ICommandHandler<CreateGroupCommand, WriteResult<GroupBody>> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({
    tenantId,
    groupId,
    name,
    ifMatch,
    context,
  }: CreateGroupCommand): Promise<WriteResult<GroupBody>> {
    const outcome = await this.tenants.execute({ type: 'CreateGroup', tenantId, groupId, name }, context, {
      ifMatch,
    });
    const group = outcome.state.membership.groups.get(groupId);
    if (group === undefined) throw new Error(`group ${groupId} missing after its creation`);
    return writeResult(this.tenants, tenantId, outcome, groupBody(tenantId, group));
  }
}

@CommandHandler(RenameGroupCommand)
export class RenameGroupHandler implements ICommandHandler<RenameGroupCommand, WriteResult<GroupBody>> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({
    tenantId,
    groupId,
    name,
    ifMatch,
    context,
  }: RenameGroupCommand): Promise<WriteResult<GroupBody>> {
    const outcome = await this.tenants.execute({ type: 'RenameGroup', tenantId, groupId, name }, context, {
      ifMatch,
    });
    const group = outcome.state.membership.groups.get(groupId);
    if (group === undefined) throw new Error(`group ${groupId} missing after its rename`);
    return writeResult(this.tenants, tenantId, outcome, groupBody(tenantId, group));
  }
}

@CommandHandler(DeleteGroupCommand)
export class DeleteGroupHandler implements ICommandHandler<DeleteGroupCommand> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({ tenantId, groupId, ifMatch, context }: DeleteGroupCommand) {
    const outcome = await this.tenants.execute({ type: 'DeleteGroup', tenantId, groupId }, context, {
      ifMatch,
    });
    return writeResult(this.tenants, tenantId, outcome, { tenantId, groupId });
  }
}

@CommandHandler(AddGroupMemberCommand)
export class AddGroupMemberHandler implements ICommandHandler<AddGroupMemberCommand> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({ tenantId, groupId, userId, ifMatch, context }: AddGroupMemberCommand) {
    const outcome = await this.tenants.execute(
      { type: 'AddGroupMember', tenantId, groupId, userId },
      context,
      { ifMatch },
    );
    return writeResult(this.tenants, tenantId, outcome, { tenantId, groupId, userId });
  }
}

@CommandHandler(RemoveGroupMemberCommand)
export class RemoveGroupMemberHandler implements ICommandHandler<RemoveGroupMemberCommand> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({ tenantId, groupId, userId, ifMatch, context }: RemoveGroupMemberCommand) {
    const outcome = await this.tenants.execute(
      { type: 'RemoveGroupMember', tenantId, groupId, userId },
      context,
      { ifMatch },
    );
    return writeResult(this.tenants, tenantId, outcome, { tenantId, groupId, userId });
  }
}

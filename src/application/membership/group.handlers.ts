import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { TenancyCommand } from '../../tenancy/tenancy.commands.js';
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

/** A write that leaves the group in place (its creation, a rename), answered with the group as it left it. */
async function writeGroup(
  tenants: TenantCommandExecutor,
  command: Extract<TenancyCommand, { type: 'CreateGroup' | 'RenameGroup' }>,
  { context, ifMatch }: CreateGroupCommand | RenameGroupCommand,
): Promise<WriteResult<GroupBody>> {
  const outcome = await tenants.execute(command, context, { ifMatch });
  const group = outcome.state.membership.groups.get(command.groupId);
  if (group === undefined) throw new Error(`group ${command.groupId} missing after ${command.type}`);
  return writeResult(tenants, command.tenantId, outcome, groupBody(command.tenantId, group));
}

@CommandHandler(CreateGroupCommand)
export class CreateGroupHandler implements ICommandHandler<CreateGroupCommand, WriteResult<GroupBody>> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  execute(command: CreateGroupCommand): Promise<WriteResult<GroupBody>> {
    const { tenantId, groupId, name } = command;
    return writeGroup(this.tenants, { type: 'CreateGroup', tenantId, groupId, name }, command);
  }
}

@CommandHandler(RenameGroupCommand)
export class RenameGroupHandler implements ICommandHandler<RenameGroupCommand, WriteResult<GroupBody>> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  execute(command: RenameGroupCommand): Promise<WriteResult<GroupBody>> {
    const { tenantId, groupId, name } = command;
    return writeGroup(this.tenants, { type: 'RenameGroup', tenantId, groupId, name }, command);
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

  async execute({ tenantId, groupId, userId, ifMatch, context, onlyIf }: AddGroupMemberCommand) {
    const outcome = await this.tenants.execute(
      { type: 'AddGroupMember', tenantId, groupId, userId, ...(onlyIf === undefined ? {} : { onlyIf }) },
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

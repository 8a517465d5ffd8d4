import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { TenantCommandExecutor } from '../commands/tenant-command.executor.js';
import type { WriteResult } from '../commands/write-results.js';
import { AddMemberCommand, RemoveMemberCommand } from './member.commands.js';
import { memberBody, membershipWrite, type MemberBody } from './membership-bodies.js';

@CommandHandler(AddMemberCommand)
export class AddMemberHandler implements ICommandHandler<AddMemberCommand, WriteResult<MemberBody>> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({
    tenantId,
    userId,
    displayName,
    context,
  }: AddMemberCommand): Promise<WriteResult<MemberBody>> {
    const outcome = await this.tenants.execute(
      { type: 'AddMember', tenantId, userId, ...(displayName === undefined ? {} : { displayName }) },
      context,
    );
    const member = outcome.state.membership.members.get(userId);
    if (member === undefined) throw new Error(`member ${userId} missing after being added`);
    const result = await membershipWrite(this.tenants, tenantId, outcome, memberBody(tenantId, member));
    // "Added" is what the client asked about: a changed display name is not a new member.
    return { ...result, changed: outcome.events.some((event) => event.type === 'MemberAdded') };
  }
}

@CommandHandler(RemoveMemberCommand)
export class RemoveMemberHandler implements ICommandHandler<RemoveMemberCommand> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({ tenantId, userId, context }: RemoveMemberCommand) {
    const outcome = await this.tenants.execute({ type: 'RemoveMember', tenantId, userId }, context);
    return membershipWrite(this.tenants, tenantId, outcome, { tenantId, userId });
  }
}

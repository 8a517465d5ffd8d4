import { Command } from '@nestjs/cqrs';
import type { IfMatch } from '../commands/tenant-command.executor.js';
import type { MemberCondition } from '../../tenancy/membership.commands.js';
import type { CommandContext } from '../commands/command-context.js';
import type { WriteResult } from '../commands/write-results.js';
import type { GroupBody, GroupMemberBody } from './membership-bodies.js';

export class CreateGroupCommand extends Command<WriteResult<GroupBody>> {
  constructor(
    readonly tenantId: string,
    readonly groupId: string,
    readonly name: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class RenameGroupCommand extends Command<WriteResult<GroupBody>> {
  constructor(
    readonly tenantId: string,
    readonly groupId: string,
    readonly name: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class DeleteGroupCommand extends Command<WriteResult<{ tenantId: string; groupId: string }>> {
  constructor(
    readonly tenantId: string,
    readonly groupId: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class AddGroupMemberCommand extends Command<WriteResult<GroupMemberBody>> {
  constructor(
    readonly tenantId: string,
    readonly groupId: string,
    readonly userId: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
    /** If-None-Match: * (absent: add only) or If-Match: * (present: only if in the group), if sent. */
    readonly onlyIf?: MemberCondition,
  ) {
    super();
  }
}

export class RemoveGroupMemberCommand extends Command<WriteResult<GroupMemberBody>> {
  constructor(
    readonly tenantId: string,
    readonly groupId: string,
    readonly userId: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

import { Command } from '@nestjs/cqrs';
import type { IfMatch } from '../commands/tenant-command.executor.js';
import type { CommandContext } from '../commands/command-context.js';
import type { WriteResult } from '../commands/write-results.js';
import type { MemberBody } from './membership-bodies.js';
import type { MemberCondition } from '../../tenancy/membership.commands.js';

/** PUT of a member: adds the user, or sets the display name of a member (undefined: leave it). */
export class AddMemberCommand extends Command<WriteResult<MemberBody>> {
  constructor(
    readonly tenantId: string,
    readonly userId: string,
    readonly displayName: string | null | undefined,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
    /** If-None-Match: * (absent: add only) or If-Match: * (present: change only), if sent. */
    readonly onlyIf?: MemberCondition,
  ) {
    super();
  }
}

export class RemoveMemberCommand extends Command<WriteResult<{ tenantId: string; userId: string }>> {
  constructor(
    readonly tenantId: string,
    readonly userId: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** Erases the person's personal data in this tenant (their key, then PersonalDataErased). */
export class ErasePersonalDataCommand extends Command<
  WriteResult<{ tenantId: string; userId: string; personalDataErased: true }>
> {
  constructor(
    readonly tenantId: string,
    readonly userId: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

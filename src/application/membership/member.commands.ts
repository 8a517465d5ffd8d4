import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../commands/command-context.js';
import type { WriteResult } from '../commands/write-results.js';
import type { MemberBody } from './membership-bodies.js';

/** PUT of a member: adds the user, or sets the display name of a member (undefined: leave it). */
export class AddMemberCommand extends Command<WriteResult<MemberBody>> {
  constructor(
    readonly tenantId: string,
    readonly userId: string,
    readonly displayName: string | null | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class RemoveMemberCommand extends Command<WriteResult<{ tenantId: string; userId: string }>> {
  constructor(
    readonly tenantId: string,
    readonly userId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

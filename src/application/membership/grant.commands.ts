import { Command } from '@nestjs/cqrs';
import type { PrincipalRef, Role } from '../../tenancy/membership.events.js';
import type { IfMatch } from '../commands/tenant-command.executor.js';
import type { CommandContext } from '../commands/command-context.js';
import type { WriteResult } from '../commands/write-results.js';
import type { GrantBody } from './membership-bodies.js';

export class GrantRoleCommand extends Command<WriteResult<GrantBody>> {
  constructor(
    readonly tenantId: string,
    readonly principal: PrincipalRef,
    readonly role: Role,
    /** null: the whole tenant. */
    readonly workspaceId: string | null,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class RevokeRoleCommand extends Command<WriteResult<{ tenantId: string; grantId: string }>> {
  constructor(
    readonly tenantId: string,
    readonly grantId: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

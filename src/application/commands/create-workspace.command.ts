import { Command } from '@nestjs/cqrs';
import type { IfMatch } from './tenant-command.executor.js';
import type { CommandContext } from './command-context.js';
import type { WorkspaceBody, WriteResult } from './write-results.js';

export class CreateWorkspaceCommand extends Command<WriteResult<WorkspaceBody>> {
  constructor(
    readonly tenantId: string,
    readonly workspaceId: string,
    readonly parentWorkspaceId: string | undefined,
    readonly name: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

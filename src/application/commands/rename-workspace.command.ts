import { Command } from '@nestjs/cqrs';
import type { CommandContext } from './command-context.js';
import type { WorkspaceBody, WriteResult } from './write-results.js';

export class RenameWorkspaceCommand extends Command<WriteResult<WorkspaceBody>> {
  constructor(
    readonly tenantId: string,
    readonly workspaceId: string,
    readonly name: string,
    /** The client's If-Match revision, if it sent one. */
    readonly expectedRevision: number | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

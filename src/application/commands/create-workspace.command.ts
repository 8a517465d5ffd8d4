import { Command } from '@nestjs/cqrs';
import type { CommandContext } from './command-context.js';
import type { WorkspaceBody, WriteResult } from './write-results.js';

export class CreateWorkspaceCommand extends Command<WriteResult<WorkspaceBody>> {
  constructor(
    readonly tenantId: string,
    readonly workspaceId: string,
    readonly parentWorkspaceId: string | undefined,
    readonly name: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

import { Command } from '@nestjs/cqrs';
import type { IfMatch } from './tenant-command.executor.js';
import type { CommandContext } from './command-context.js';
import type { WriteResult } from './write-results.js';

export interface DeleteWorkspaceBody {
  readonly tenantId: string;
  readonly workspaceId: string;
  /** 'deleted' at once for a leaf; 'deleting' while a cascade runs. */
  readonly status: 'deleted' | 'deleting';
}

export class DeleteWorkspaceCommand extends Command<WriteResult<DeleteWorkspaceBody>> {
  constructor(
    readonly tenantId: string,
    readonly workspaceId: string,
    readonly cascade: boolean,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

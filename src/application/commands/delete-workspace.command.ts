import { Command } from '@nestjs/cqrs';
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
    readonly context: CommandContext,
  ) {
    super();
  }
}

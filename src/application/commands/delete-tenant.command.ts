import { Command } from '@nestjs/cqrs';
import type { IfMatch } from './tenant-command.executor.js';
import type { CommandContext } from './command-context.js';
import type { WriteResult } from './write-results.js';

export interface DeleteTenantBody {
  readonly tenantId: string;
  readonly status: 'deleting' | 'deleted';
}

export class DeleteTenantCommand extends Command<WriteResult<DeleteTenantBody>> {
  constructor(
    readonly tenantId: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

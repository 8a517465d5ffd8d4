import { Command } from '@nestjs/cqrs';
import type { CommandContext } from './command-context.js';
import type { WriteResult } from './write-results.js';

export interface DeleteTenantBody {
  readonly tenantId: string;
  readonly status: 'deleting' | 'deleted';
}

export class DeleteTenantCommand extends Command<WriteResult<DeleteTenantBody>> {
  constructor(
    readonly tenantId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

import { Command } from '@nestjs/cqrs';
import type { CommandContext } from './command-context.js';
import type { TenantBody, WriteResult } from './write-results.js';

export class CreateTenantCommand extends Command<WriteResult<TenantBody>> {
  constructor(
    readonly tenantId: string,
    readonly name: string,
    readonly context: CommandContext,
    /** The user the tenant starts with as its admin. */
    readonly adminUserId?: string,
  ) {
    super();
  }
}

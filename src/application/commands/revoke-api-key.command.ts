import { Command } from '@nestjs/cqrs';
import type { IfMatch } from './tenant-command.executor.js';
import type { CommandContext } from './command-context.js';
import type { WriteResult } from './write-results.js';

export interface RevokeApiKeyBody {
  readonly tenantId: string;
  readonly apiKeyId: string;
}

export class RevokeApiKeyCommand extends Command<WriteResult<RevokeApiKeyBody>> {
  constructor(
    readonly tenantId: string,
    readonly apiKeyId: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

import { Command } from '@nestjs/cqrs';
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
    readonly context: CommandContext,
  ) {
    super();
  }
}

import { Command } from '@nestjs/cqrs';
import type { ApiKeyRole } from '../../tenancy/tenancy.events.js';
import type { IfMatch } from './tenant-command.executor.js';
import type { CommandContext } from './command-context.js';
import type { WriteResult } from './write-results.js';

export interface ApiKeyBody {
  readonly apiKeyId: string;
  readonly tenantId: string;
  readonly role: ApiKeyRole;
  readonly workspaceId: string | null;
  readonly name: string | null;
  readonly createdAt: string;
  readonly status: 'active' | 'revoked';
}

/** The one answer that carries the secret: nothing stores it, so it cannot be shown again. */
export interface IssuedApiKeyBody extends ApiKeyBody {
  readonly secret: string;
}

export class IssueApiKeyCommand extends Command<WriteResult<IssuedApiKeyBody>> {
  constructor(
    readonly tenantId: string,
    /** Undefined: a new one. */
    readonly apiKeyId: string | undefined,
    readonly role: ApiKeyRole,
    readonly workspaceId: string | null,
    readonly name: string | null,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

import { randomUUID } from 'node:crypto';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { generateApiKeySecret } from '../access/api-key-secret.js';
import { ApiKeyRegistry } from '../access/api-key.registry.js';
import { apiKeyBody } from '../access/api-key.queries.js';
import { TenantCommandExecutor } from './tenant-command.executor.js';
import type { WriteResult } from './write-results.js';
import { IssueApiKeyCommand, type IssuedApiKeyBody } from './issue-api-key.command.js';

@CommandHandler(IssueApiKeyCommand)
export class IssueApiKeyHandler implements ICommandHandler<
  IssueApiKeyCommand,
  WriteResult<IssuedApiKeyBody>
> {
  constructor(
    private readonly tenants: TenantCommandExecutor,
    private readonly registry: ApiKeyRegistry,
  ) {}

  async execute(command: IssueApiKeyCommand): Promise<WriteResult<IssuedApiKeyBody>> {
    const { tenantId, role, workspaceId, name, ifMatch, context } = command;
    // Generated here, not in decide: the decider stays deterministic and never sees the secret.
    const apiKeyId = command.apiKeyId ?? randomUUID();
    const { secret, secretHash } = generateApiKeySecret();
    const outcome = await this.tenants.execute(
      {
        type: 'IssueApiKey',
        tenantId,
        apiKeyId,
        role,
        workspaceId,
        name,
        secretHash,
        issuedAt: context.now.toISOString(),
      },
      context,
      { ifMatch },
    );
    this.registry.applyAppended(outcome.events);
    const key = outcome.state.apiKeys.get(apiKeyId);
    if (!key || outcome.revision === undefined)
      throw new Error(`api key ${apiKeyId} missing after its issue`);
    return {
      changed: true,
      body: { ...apiKeyBody(tenantId, key), secret },
      revision: outcome.revision,
      position: outcome.position,
    };
  }
}

import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ApiKeyRegistry } from '../access/api-key.registry.js';
import { TenantCommandExecutor } from './tenant-command.executor.js';
import type { WriteResult } from './write-results.js';
import { RevokeApiKeyCommand, type RevokeApiKeyBody } from './revoke-api-key.command.js';

@CommandHandler(RevokeApiKeyCommand)
export class RevokeApiKeyHandler implements ICommandHandler<
  RevokeApiKeyCommand,
  WriteResult<RevokeApiKeyBody>
> {
  constructor(
    private readonly tenants: TenantCommandExecutor,
    private readonly registry: ApiKeyRegistry,
  ) {}

  async execute({
    tenantId,
    apiKeyId,
    ifMatch,
    context,
  }: RevokeApiKeyCommand): Promise<WriteResult<RevokeApiKeyBody>> {
    const outcome = await this.tenants.execute({ type: 'RevokeApiKey', tenantId, apiKeyId }, context, {
      ifMatch,
    });
    // This instance refuses the key from the next request on; the others follow through the log.
    this.registry.applyAppended(outcome.events);
    return {
      changed: outcome.events.length > 0,
      body: { tenantId, apiKeyId },
      revision: outcome.revision ?? 0,
      position: outcome.position ?? (await this.tenants.positionAt(tenantId)),
    };
  }
}

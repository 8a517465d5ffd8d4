import { Injectable } from '@nestjs/common';
import { TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';
import type { ApiKeyState } from '../../tenancy/tenant.state.js';
import type { ApiKeyBody } from '../commands/issue-api-key.command.js';
import { TenantCommandExecutor } from '../commands/tenant-command.executor.js';

/**
 * Keys are listed from the tenant's folded state rather than a read model: they are few per tenant,
 * and an admin who just issued or revoked one sees it at once, with no projection lag.
 */
@Injectable()
export class ApiKeyQueries {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async list(tenantId: string): Promise<{ items: ApiKeyBody[] }> {
    const state = await this.liveTenant(tenantId);
    return { items: [...state.apiKeys.values()].map((key) => apiKeyBody(tenantId, key)) };
  }

  /** One key, revoked ones included, as the list shows it: the Location its issue answered with. */
  async get(tenantId: string, apiKeyId: string): Promise<ApiKeyBody> {
    const key = (await this.liveTenant(tenantId)).apiKeys.get(apiKeyId);
    if (key === undefined) throw new TenancyRuleViolation('API_KEY_NOT_FOUND', `No API key ${apiKeyId}.`);
    return apiKeyBody(tenantId, key);
  }

  private async liveTenant(tenantId: string) {
    const { state } = await this.tenants.read(tenantId);
    if (state.status === 'none' || state.status === 'deleted') {
      throw new TenancyRuleViolation('TENANT_NOT_FOUND', `No tenant ${tenantId}.`);
    }
    return state;
  }
}

/** A key as clients see it: never the secret, never its hash. */
export function apiKeyBody(tenantId: string, key: ApiKeyState): ApiKeyBody {
  return {
    apiKeyId: key.apiKeyId,
    tenantId,
    role: key.role,
    workspaceId: key.workspaceId,
    name: key.name,
    createdAt: key.issuedAt,
    status: key.status,
  };
}

import type { AppConfig } from '../../config/app-config.js';
import { effectiveQuotas, QUOTA_NAMES, type QuotaName, type Quotas } from '../../tenancy/quotas.js';
import type { TenantState } from '../../tenancy/tenant.state.js';

/** The quotas of tenants that set none of their own, as configured (TENANCY_QUOTA_*). */
export function configuredQuotaDefaults(config: AppConfig): Quotas {
  return {
    maxWorkspaces: config.quotaMaxWorkspaces,
    maxDepth: config.quotaMaxDepth,
    maxApiKeys: config.quotaMaxApiKeys,
    maxMembers: config.quotaMaxMembers,
    maxGroups: config.quotaMaxGroups,
  };
}

export interface QuotaView {
  /** The limit in force. */
  readonly limit: number;
  /** Whether it is the tenant's own or the configured default. */
  readonly source: 'tenant' | 'default';
  /** What the tenant uses now; for maxDepth, the depth of its deepest workspace. */
  readonly current: number;
}

export type TenantQuotasBody = {
  readonly tenantId: string;
  readonly quotas: { readonly [Q in QuotaName]: QuotaView };
};

/** Each quota with its limit, where the limit comes from, and the tenant's current use. */
export function quotasOf(tenantId: string, state: TenantState, defaults: Quotas): TenantQuotasBody {
  const limits = effectiveQuotas(state.quotaOverrides, defaults);
  const current: { readonly [Q in QuotaName]: number } = {
    maxWorkspaces: state.liveWorkspaceCount,
    maxDepth: deepestDepth(state),
    maxApiKeys: state.activeApiKeyCount,
    maxMembers: state.membership.members.size,
    maxGroups: state.membership.groups.size,
  };
  const quotas = Object.fromEntries(
    QUOTA_NAMES.map((quota) => [
      quota,
      {
        limit: limits[quota],
        source: state.quotaOverrides[quota] === null ? 'default' : 'tenant',
        current: current[quota],
      },
    ]),
  ) as { [Q in QuotaName]: QuotaView };
  return { tenantId, quotas };
}

/** O(workspaces): asked only by the quotas route, never on a command's path. */
function deepestDepth(state: TenantState): number {
  let deepest = 0;
  for (const workspace of state.workspaces.values()) {
    if (workspace.status !== 'deleted' && workspace.depth > deepest) deepest = workspace.depth;
  }
  return deepest;
}

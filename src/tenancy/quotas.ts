/**
 * What one tenant may hold. Each quota has a default for every tenant (from the service's
 * configuration, handed to decide) and may be set per tenant (TenantQuotasSet, operator only).
 * Quotas refuse new items only: lowering one below the current use leaves what exists alone.
 */
import { invalidField, TenancyRuleViolation } from './tenancy.errors.js';

export const QUOTA_NAMES = ['maxWorkspaces', 'maxDepth', 'maxApiKeys', 'maxMembers', 'maxGroups'] as const;

export type QuotaName = (typeof QUOTA_NAMES)[number];

/** Effective limits: a number for every quota. */
export type Quotas = { readonly [Q in QuotaName]: number };

/** A tenant's own settings: null (or absent, in older histories) means "the default". */
export type QuotaOverrides = { readonly [Q in QuotaName]: number | null };

export const NO_QUOTA_OVERRIDES: QuotaOverrides = Object.freeze({
  maxWorkspaces: null,
  maxDepth: null,
  maxApiKeys: null,
  maxMembers: null,
  maxGroups: null,
});

/** The largest value a quota may be set to; maxApiKeys is bounded by what the key registry holds. */
export const QUOTA_CEILINGS: Quotas = Object.freeze({
  maxWorkspaces: 10_000_000,
  maxDepth: 100_000,
  maxApiKeys: 100,
  maxMembers: 10_000_000,
  maxGroups: 1_000_000,
});

/**
 * The limits a decider applies when nobody configured any: no more than the ceilings. The service
 * passes its configured defaults instead (src/config/app-config.ts).
 */
export const BUILT_IN_QUOTA_DEFAULTS: Quotas = QUOTA_CEILINGS;

/** What counts against each quota, for the docs and the problem details. */
export const QUOTA_MEANINGS: { readonly [Q in QuotaName]: string } = {
  maxWorkspaces: 'workspaces not yet deleted, the root included',
  maxDepth: 'depth of a workspace below the root (the root is at depth 0)',
  maxApiKeys: 'active API keys',
  maxMembers: 'members',
  maxGroups: 'groups',
};

export function effectiveQuotas(overrides: QuotaOverrides, defaults: Quotas): Quotas {
  return {
    maxWorkspaces: overrides.maxWorkspaces ?? defaults.maxWorkspaces,
    maxDepth: overrides.maxDepth ?? defaults.maxDepth,
    maxApiKeys: overrides.maxApiKeys ?? defaults.maxApiKeys,
    maxMembers: overrides.maxMembers ?? defaults.maxMembers,
    maxGroups: overrides.maxGroups ?? defaults.maxGroups,
  };
}

/**
 * Refuses a change that would take `quota` from `current` to `requested` beyond its limit. For
 * counts `current` is the count now; for maxDepth it is the deepest depth the change would reach
 * (and `requested` the same), since depth is a property of one workspace, not a tally.
 */
export function requireWithinQuota(
  quota: QuotaName,
  limit: number,
  current: number,
  requested: number,
): void {
  if (requested <= limit) return;
  throw new TenancyRuleViolation(
    'QUOTA_EXCEEDED',
    quota === 'maxDepth'
      ? `the tenant's quota ${quota} is ${limit}; this would place a workspace at depth ${requested}`
      : `the tenant's quota ${quota} is ${limit} and it holds ${current} (${QUOTA_MEANINGS[quota]})`,
    { quota, limit, current },
  );
}

/** Checks a requested set of overrides: each null (the default) or a whole number up to its ceiling. */
export function parseQuotaOverrides(raw: Partial<Record<QuotaName, unknown>>): QuotaOverrides {
  const parsed: Record<string, number | null> = {};
  for (const quota of QUOTA_NAMES) {
    const value = raw[quota];
    if (value === undefined || value === null) {
      parsed[quota] = null;
      continue;
    }
    if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > QUOTA_CEILINGS[quota]) {
      throw invalidField(quota, `must be null or a whole number from 0 to ${QUOTA_CEILINGS[quota]}`);
    }
    parsed[quota] = value as number;
  }
  return parsed as QuotaOverrides;
}

export function sameOverrides(a: QuotaOverrides, b: QuotaOverrides): boolean {
  return QUOTA_NAMES.every((quota) => a[quota] === b[quota]);
}

import { ActingApiKeyInactive } from './tenancy.errors.js';
import { findLiveWorkspace, type ApiKeyState, type TenantState } from './tenant.state.js';

/**
 * Whether an issued API key may still act on its tenant, judged on the tenant's folded state: it is
 * not revoked, its workspace (if it has one) is not deleted, and the tenant's deletion has not
 * started. The one statement of the rule; the key check in front of every request and the decision
 * of every command made with a key both follow it.
 */
export function apiKeyMayAct(state: TenantState, key: ApiKeyState): boolean {
  if (state.status !== 'active' && state.status !== 'suspended') return false;
  if (key.status !== 'active') return false;
  return key.workspaceId === null || findLiveWorkspace(state, key.workspaceId) !== undefined;
}

/**
 * A command made with an API key is decided only while the key may act, on the very state (and so
 * under the same expected revision) it is decided on: a revocation that lands while the command
 * waits its turn refuses it, instead of letting it be appended after the ApiKeyRevoked.
 */
export function requireActingApiKey(state: TenantState, apiKeyId: string): void {
  const key = state.apiKeys.get(apiKeyId);
  if (key === undefined || !apiKeyMayAct(state, key)) throw new ActingApiKeyInactive(apiKeyId);
}

import { ActingApiKeyInactive } from './tenancy.errors.js';
import { findLiveWorkspace, type TenantState } from './tenant.state.js';

/**
 * A command made with an API key is decided only while the key may still act, judged on the very
 * state (and so under the same expected revision) the command is decided on: the key is not
 * revoked, its workspace (if it has one) is not deleted, and the tenant's deletion has not started.
 * The check in front of each request (the key registry, and AccessControl for a workspace key's
 * scope) finds the same from its own data, but before the command waits its turn on the tenant: a
 * revocation that lands in between refuses the command here, instead of letting it be appended
 * after the ApiKeyRevoked.
 */
export function requireActingApiKey(state: TenantState, apiKeyId: string): void {
  const key = state.apiKeys.get(apiKeyId);
  const mayAct =
    key !== undefined &&
    (state.status === 'active' || state.status === 'suspended') &&
    key.status === 'active' &&
    (key.workspaceId === null || findLiveWorkspace(state, key.workspaceId) !== undefined);
  if (!mayAct) throw new ActingApiKeyInactive(apiKeyId);
}

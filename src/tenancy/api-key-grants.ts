import type { ApiKeyRole } from './tenancy.events.js';
import type { Role } from './membership.events.js';
import { uuidV5 } from './uuid.js';

/**
 * The equivalence between API keys and grants, applied when the tenant is folded (no stored event is
 * rewritten): an ApiKeyIssued {role, workspaceId} counts as a grant of the matching role to the
 * principal {type: 'apiKey', id: apiKeyId} on the key's scope, and its ApiKeyRevoked ends that
 * grant. A key's admin may read and change everything in its scope, as a grant's admin may; a
 * reader reads, as a viewer does. The grant's id is derived from the key's, so every fold, read
 * model and instance agrees on it.
 */
export function roleOfApiKey(role: ApiKeyRole): Role {
  return role === 'admin' ? 'admin' : 'viewer';
}

export function apiKeyGrantIdOf(apiKeyId: string): string {
  return uuidV5('api-key-role', apiKeyId);
}

/** The grant of the admin a tenant is created with: derived, so a repeated create cannot add a second. */
export function initialAdminGrantIdOf(tenantId: string): string {
  return uuidV5('initial-admin', tenantId);
}

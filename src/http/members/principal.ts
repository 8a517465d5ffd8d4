import type { PrincipalRef, PrincipalType } from '../../tenancy/membership.events.js';
import { isUuid } from '../../tenancy/uuid.js';

/** Group and key ids are UUIDs, accepted in any case like every id in a path; user ids are kept as sent. */
export function principalOf(type: PrincipalType, id: string): PrincipalRef {
  return { type, id: type !== 'user' && isUuid(id) ? id.toLowerCase() : id };
}

/**
 * The stored ids a principal id in a filter may match: one with the principal's type; without it, as
 * sent (a user's) and, for a UUID, in lower case too (a group's or a key's).
 */
export function principalIdsMatching(type: PrincipalType | undefined, id: string): readonly string[] {
  if (type !== undefined) return [principalOf(type, id).id];
  const lower = id.toLowerCase();
  return isUuid(id) && lower !== id ? [id, lower] : [id];
}

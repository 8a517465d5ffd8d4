import type { PrincipalRef, PrincipalType } from '../../tenancy/membership.events.js';
import { isUuid } from '../../tenancy/uuid.js';

/** Group and key ids are UUIDs, accepted in any case like every id in a path; user ids are kept as sent. */
export function principalOf(type: PrincipalType, id: string): PrincipalRef {
  return { type, id: type !== 'user' && isUuid(id) ? id.toLowerCase() : id };
}

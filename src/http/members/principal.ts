import type { PrincipalRef, PrincipalType } from '../../tenancy/membership.events.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Group and key ids are UUIDs, accepted in any case like every id in a path; user ids are kept as sent. */
export function principalOf(type: PrincipalType, id: string): PrincipalRef {
  return { type, id: type !== 'user' && UUID.test(id) ? id.toLowerCase() : id };
}

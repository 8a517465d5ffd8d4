import type { Principal } from '../../application/access/principal.js';
import { principalName } from '../../application/access/principal.js';

/** Who is calling: the operator or the holder of a tenant's API key. */
export type Actor = Principal;

export const ACTOR_KEY = 'tenancyActor';

/** Set by the guard next to the actor: the access check the request passed, asked again by its commands. */
export const ACCESS_KEY = 'tenancyAccess';

/** Set by the guard next to the actor: how far lists must be narrowed for this request. */
export const READ_SCOPE_KEY = 'tenancyReadScope';

export interface RequestReadScope {
  /** Lists show only this workspace's subtree; null: the whole tenant. */
  readonly subtree: string | null;
}

export function actorName(actor: Actor): string {
  return principalName(actor);
}

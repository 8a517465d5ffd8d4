/** Who is calling. Only the operator exists so far; scoped keys extend this union. */
export type Actor = { readonly kind: 'operator'; readonly id: 'operator' };

export const ACTOR_KEY = 'tenancyActor';

export function actorName(actor: Actor): string {
  return actor.id;
}

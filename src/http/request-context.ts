import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import type { CommandContext } from '../application/commands/command-context.js';
import type { Clock } from '../application/clock.js';
import type { AccessRequest } from '../application/access/access-on-state.js';
import { ACCESS_KEY, ACTOR_KEY, actorName, type Actor } from './auth/actor.js';
import { correlationOf } from './correlation.js';

/** The metadata a request gives the commands it issues. */
export function commandContextOf(request: Request, clock: Clock): CommandContext {
  const guarded = request as Request & { [ACTOR_KEY]?: Actor; [ACCESS_KEY]?: AccessRequest };
  const actor = guarded[ACTOR_KEY];
  if (!actor) throw new Error('no authenticated actor on the request');
  const access = guarded[ACCESS_KEY];
  return {
    actor: actorName(actor),
    ...(actor.kind === 'api-key' ? { apiKeyId: actor.apiKeyId } : {}),
    ...(access === undefined ? {} : { access }),
    correlationId: correlationOf(request).correlationId,
    causationId: randomUUID(),
    now: clock.now(),
  };
}

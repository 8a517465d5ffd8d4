import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import type { CommandContext } from '../application/commands/command-context.js';
import type { Clock } from '../application/clock.js';
import { ACTOR_KEY, actorName, type Actor } from './auth/actor.js';

const CORRELATION_HEADER = 'x-correlation-id';
const SAFE_ID = /^[\w.:-]{1,128}$/;

/** The metadata a request gives the commands it issues. */
export function commandContextOf(request: Request, clock: Clock): CommandContext {
  const actor = (request as Request & { [ACTOR_KEY]?: Actor })[ACTOR_KEY];
  if (!actor) throw new Error('no authenticated actor on the request');
  const requestId = randomUUID();
  const header = request.headers[CORRELATION_HEADER];
  const correlationId = typeof header === 'string' && SAFE_ID.test(header) ? header : requestId;
  return { actor: actorName(actor), correlationId, causationId: requestId, now: clock.now() };
}

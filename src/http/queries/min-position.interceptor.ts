import {
  applyDecorators,
  Inject,
  Injectable,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request } from 'express';
import { from, switchMap, type Observable } from 'rxjs';
import { EVENT_STORE, type EventStore, type Position } from '../../event-store/event-store.port.js';
import { ProjectionProgress } from '../../consumers/projection-progress.js';
import { requireWrittenPosition } from '../../application/queries/written-position.js';
import { ProblemError, problem } from '../problem.js';
import { minPositionOf } from './min-position.header.js';
import { ApiMinPosition, ApiRoute, type ProblemCodes } from '../openapi/api-docs.decorators.js';

/** How long a read waits for the read models to reach its Min-Position before answering 503. */
export const MIN_POSITION_WAIT_MS = 5_000;

/**
 * Read your writes: a GET with `Min-Position: <position from a write response>` is answered only
 * once the read models have applied that position. A local projector's commit wakes the wait at
 * once; polling covers a projector running in another instance. A position after the log's last
 * committed event was never answered by a write, and waiting would only end in 503s that ask the
 * client to retry for ever: it is refused at once (400).
 */
@Injectable()
export class MinPositionInterceptor implements NestInterceptor {
  constructor(
    private readonly progress: ProjectionProgress,
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const position = minPositionOf(context.switchToHttp().getRequest<Request>());
    if (position === undefined) return next.handle();
    return from(this.waitFor(position)).pipe(switchMap(() => next.handle()));
  }

  private async waitFor(position: Position): Promise<void> {
    if (await this.progress.hasApplied(position)) return;
    await requireWrittenPosition(this.eventStore, position);
    const applied = await this.progress.until(
      async () => (await this.progress.hasApplied(position)) || undefined,
      MIN_POSITION_WAIT_MS,
    );
    if (applied === undefined) throw projectionLagging(`have not reached ${position}`);
  }
}

/** 503 PROJECTION_LAGGING: the read models `what` ("have not reached <position>") yet. */
export function projectionLagging(what: string): ProblemError {
  return new ProblemError(
    problem(503, 'PROJECTION_LAGGING', 'Projection lagging', `The read models ${what} yet; retry shortly.`),
    { 'Retry-After': '1' },
  );
}

/**
 * A GET answered from the read models: it honours Min-Position (MinPositionInterceptor) and is
 * documented with that header and the answers every such read may give (a bad parameter, a
 * forbidden scope, the read models not reaching the position in time), plus its own not-found
 * codes and any others it has.
 */
export function ReadModelRoute(
  tag: string,
  summary: string,
  notFound: readonly string[],
  others: ProblemCodes = {},
): MethodDecorator {
  const problems: Record<number, readonly string[]> = { 400: ['VALIDATION_FAILED'], 403: ['FORBIDDEN'] };
  if (notFound.length > 0) problems[404] = notFound;
  Object.assign(problems, others, { 503: ['PROJECTION_LAGGING'] });
  return applyDecorators(
    UseInterceptors(MinPositionInterceptor),
    ApiRoute(tag, summary, problems),
    ApiMinPosition(),
  );
}

import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { from, switchMap, type Observable } from 'rxjs';
import { isPosition } from '../../event-store/position.js';
import type { Position } from '../../event-store/event-store.port.js';
import { ProjectionProgress } from '../../consumers/projection-progress.js';
import { ProblemError, problem } from '../problem.js';

/** How long a read waits for the read models to reach its Min-Position before answering 503. */
export const MIN_POSITION_WAIT_MS = 5_000;
const POLL_MS = 25;

/**
 * Read your writes: a GET with `Min-Position: <position from a write response>` is answered only
 * once the read models have applied that position. A local projector's commit wakes the wait at
 * once; polling covers a projector running in another instance.
 */
@Injectable()
export class MinPositionInterceptor implements NestInterceptor {
  constructor(private readonly progress: ProjectionProgress) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const header = context.switchToHttp().getRequest<Request>().headers['min-position'];
    if (header === undefined) return next.handle();
    if (typeof header !== 'string' || !isPosition(header.trim())) {
      throw new ProblemError(
        problem(
          400,
          'VALIDATION_FAILED',
          'Validation failed',
          'Min-Position must be a position from a write response.',
        ),
      );
    }
    return from(this.waitFor(header.trim() as Position)).pipe(switchMap(() => next.handle()));
  }

  private async waitFor(position: Position): Promise<void> {
    const deadline = Date.now() + MIN_POSITION_WAIT_MS;
    while (!(await this.progress.hasApplied(position))) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ProblemError(
          problem(
            503,
            'PROJECTION_LAGGING',
            'Projection lagging',
            `The read models have not reached ${position} yet; retry shortly.`,
          ),
          { 'Retry-After': '1' },
        );
      }
      await this.progress.nextCommit(Math.min(POLL_MS, left));
    }
  }
}

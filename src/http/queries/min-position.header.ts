import type { Request } from 'express';
import type { Position } from '../../event-store/event-store.port.js';
import { isPosition } from '../../event-store/position.js';
import { ProblemError, problem } from '../problem.js';

/**
 * The Min-Position a request carries, for answers taken from the tenant state rather than the read
 * models (checks and lookups wait on the state, not on the projections).
 */
export function minPositionOf(request: Request): Position | undefined {
  const header = request.headers['min-position'];
  if (header === undefined) return undefined;
  const value = typeof header === 'string' ? header.trim() : '';
  if (!isPosition(value)) {
    throw new ProblemError(
      problem(
        400,
        'VALIDATION_FAILED',
        'Validation failed',
        'Min-Position must be a position from a write response.',
      ),
    );
  }
  return value;
}

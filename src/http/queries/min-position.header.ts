import type { Request } from 'express';
import type { Position } from '../../event-store/event-store.port.js';
import { isPosition } from '../../event-store/position.js';
import { validationProblem } from '../problem.js';

/**
 * The Min-Position a request carries, or undefined without one; a value that is not a position
 * from a write response is a 400. The reads of the read models wait for it in
 * MinPositionInterceptor, the checks and lookups answered from the tenant state in their handlers.
 */
export function minPositionOf(request: Request): Position | undefined {
  const header = request.headers['min-position'];
  if (header === undefined) return undefined;
  const value = typeof header === 'string' ? header.trim() : '';
  if (!isPosition(value)) {
    throw validationProblem([{ field: 'Min-Position', message: 'must be a position from a write response' }]);
  }
  return value;
}

import type { Request } from 'express';
import type { Position } from '../../event-store/event-store.port.js';
import { isPosition } from '../../event-store/position.js';
import { validationProblem, type FieldError } from '../problem.js';

const NOT_A_POSITION: FieldError = {
  field: 'Min-Position',
  message: 'must be a position from a write response',
};

/**
 * The Min-Position a request carries, or undefined without one; a value that is not a position
 * from a write response is a 400. The reads of the read models wait for it in
 * MinPositionInterceptor, the checks and lookups answered from the tenant state in their handlers;
 * every other route checks it too (UndeclaredInputInterceptor) and needs no wait.
 */
export function minPositionOf(request: Request): Position | undefined {
  const position = parseMinPosition(request);
  if (position === null) throw validationProblem([NOT_A_POSITION]);
  return position;
}

/** What is wrong with a request's Min-Position, if it has one that is not a position. */
export function minPositionFault(request: Request): FieldError | undefined {
  return parseMinPosition(request) === null ? NOT_A_POSITION : undefined;
}

/** The header's position; null for a value that is not one, undefined without the header. */
function parseMinPosition(request: Request): Position | null | undefined {
  const header = request.headers['min-position'];
  if (header === undefined) return undefined;
  const value = typeof header === 'string' ? header.trim() : '';
  return isPosition(value) ? value : null;
}

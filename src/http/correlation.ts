import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export const CORRELATION_HEADER = 'x-correlation-id';
const SAFE_ID = /^[\w.:-]{1,128}$/;
/** W3C Trace Context, version 00: trace-id and parent-id in lower-case hex, neither all zeros. */
const TRACEPARENT = /^00-(?!0{32})([0-9a-f]{32})-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

export interface Correlation {
  /** Shared by everything this request causes: log lines, event metadata, the response header. */
  readonly correlationId: string;
  /** The W3C trace id, when the caller sent a valid `traceparent`. */
  readonly traceId?: string;
}

const CORRELATION = Symbol('correlation');
type CorrelatedRequest = Request & { [CORRELATION]?: Correlation };

/**
 * First of all middleware, so that even a request refused before routing (unparseable body, unknown
 * route) has its id in the log and in the answer. The id is the caller's `X-Correlation-Id` when it is
 * a safe token, else the trace id of a valid `traceparent`, else a new UUID. It is echoed as
 * `X-Correlation-Id`; a valid `traceparent` is echoed unchanged.
 */
export function correlate(request: Request, response: Response, next: NextFunction): void {
  const header = request.headers[CORRELATION_HEADER];
  const given = typeof header === 'string' && SAFE_ID.test(header) ? header : undefined;
  const traceparent = request.headers.traceparent;
  const trace = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent.trim()) : null;
  const traceId = trace?.[1];
  const correlation: Correlation = {
    correlationId: given ?? traceId ?? randomUUID(),
    ...(traceId === undefined ? {} : { traceId }),
  };
  (request as CorrelatedRequest)[CORRELATION] = correlation;
  response.setHeader('X-Correlation-Id', correlation.correlationId);
  if (trace) response.setHeader('traceparent', trace[0]);
  next();
}

/** The correlation `correlate` gave this request (a fresh one if it never ran). */
export function correlationOf(request: Request): Correlation {
  const correlated = request as CorrelatedRequest;
  correlated[CORRELATION] ??= { correlationId: randomUUID() };
  return correlated[CORRELATION];
}

import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../observability/logger.js';
import { ACTOR_KEY, actorName, type Actor } from './auth/actor.js';
import { correlationOf } from './correlation.js';
import { pathOf, type RouteTable } from './route-table.js';

/**
 * One JSON line per finished (or aborted) request: method, route pattern, path, status, duration,
 * tenant, actor, correlation id and trace id, at `error` for a 5xx answer or a failed response and
 * `info` otherwise. Headers and bodies are never logged, so neither `Authorization` nor an issued
 * key's secret can reach the log.
 *
 * Written here rather than with pino-http: that library builds two child loggers per request, one
 * of them serialising the request's headers, which this service never logs. Under the permission
 * checks' load that was the largest allocation of the process, and much of it lived long enough to
 * reach the old generation. The line is built once, when the answer is complete.
 *
 * The lines skip the logger's redaction: they hold only the scalar fields of `lineFields`, none of
 * them a key the logger redacts, so it could never change one, and it cost about 15 µs a line,
 * several times the rest of the line (BENCHMARKS.md). A field added there must not carry a secret.
 */
export function requestLog(logger: Logger, routes: RouteTable) {
  const lines = logger.child({}, { redact: [] });
  return (request: Request, response: Response, next: NextFunction): void => {
    const started = performance.now();
    let logged = false;
    const write = (error?: Error): void => {
      if (logged) return;
      logged = true;
      response.off('finish', finished);
      response.off('close', finished);
      response.off('error', write);
      const route = routes.label(request);
      const fields = lineFields(request, response, route.params.tenantId, route.path, started);
      const status = statusSent(response);
      const message = `${request.method} ${route.path} ${status}`;
      if (error !== undefined || status >= 500) lines.error(fields, message);
      else lines.info(fields, message);
    };
    const finished = (): void => write();
    response.once('finish', finished);
    response.once('close', finished);
    response.once('error', write);
    next();
  };
}

/**
 * The status the client was really sent, for the log line and the metrics alike: 0 when it went
 * away before any answer was (Express's statusCode reads 200 until a handler sets another).
 */
export function statusSent(response: Response): number {
  return response.headersSent ? response.statusCode : 0;
}

function lineFields(
  request: Request,
  response: Response,
  routeTenantId: string | undefined,
  routePath: string,
  started: number,
): Record<string, unknown> {
  const actor = (request as Request & { [ACTOR_KEY]?: Actor })[ACTOR_KEY];
  const { correlationId, traceId } = correlationOf(request);
  const tenantId =
    routeTenantId ??
    (typeof request.query.tenantId === 'string' ? request.query.tenantId : undefined) ??
    (actor?.kind === 'api-key' ? actor.tenantId : undefined);
  return {
    correlationId,
    ...(traceId === undefined ? {} : { traceId }),
    method: request.method,
    route: routePath,
    path: pathOf(request),
    status: statusSent(response),
    durationMs: Math.round(performance.now() - started),
    ...(tenantId === undefined ? {} : { tenantId: tenantId.toLowerCase() }),
    ...(actor === undefined ? {} : { actor: actorName(actor) }),
    // Set when the client went away before the answer was complete.
    ...(response.writableFinished ? {} : { aborted: true }),
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../observability/logger.js';
import { ACTOR_KEY, actorName, type Actor } from './auth/actor.js';
import { correlationOf } from './correlation.js';
import { pathOf, type RouteTable } from './route-table.js';

/**
 * One JSON line per finished (or aborted) request: method, route pattern, path, status, duration,
 * tenant, actor, correlation id and trace id. Headers and bodies are never logged, so neither
 * `Authorization` nor an issued key's secret can reach the log.
 */
export function requestLog(logger: Logger, routes: RouteTable): RequestHandler {
  const fields = (incoming: IncomingMessage, outgoing: ServerResponse, durationMs: number) => {
    const request = incoming as Request;
    const route = routes.label(request);
    const actor = (request as Request & { [ACTOR_KEY]?: Actor })[ACTOR_KEY];
    const { correlationId, traceId } = correlationOf(request);
    const tenantId =
      route.params.tenantId ??
      (typeof request.query.tenantId === 'string' ? request.query.tenantId : undefined) ??
      (actor?.kind === 'api-key' ? actor.tenantId : undefined);
    return {
      correlationId,
      ...(traceId === undefined ? {} : { traceId }),
      method: request.method,
      route: route.path,
      path: pathOf(request),
      status: outgoing.statusCode,
      durationMs,
      ...(tenantId === undefined ? {} : { tenantId: tenantId.toLowerCase() }),
      ...(actor === undefined ? {} : { actor: actorName(actor) }),
      // Set when the client went away before the answer was complete.
      ...(outgoing.writableFinished ? {} : { aborted: true }),
    };
  };
  const middleware = pinoHttp({
    logger,
    genReqId: (request) => correlationOf(request as Request).correlationId,
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: 'correlationId' },
    customLogLevel: (_request, response, error) =>
      error !== undefined || response.statusCode >= 500 ? 'error' : 'info',
    customSuccessObject: (request, response, value: { responseTime: number }) =>
      fields(request, response, value.responseTime),
    customErrorObject: (request, response, _error, value: { responseTime: number }) =>
      fields(request, response, value.responseTime),
    customSuccessMessage: (request, response) =>
      `${request.method ?? ''} ${routes.label(request as Request).path} ${response.statusCode}`,
    customErrorMessage: (request, response) =>
      `${request.method ?? ''} ${routes.label(request as Request).path} ${response.statusCode}`,
  });
  return middleware;
}

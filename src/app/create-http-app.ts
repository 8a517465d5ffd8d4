import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import { ApiKeyAuthenticator } from '../http/auth/api-key.authenticator.js';
import { correlate } from '../http/correlation.js';
import { HttpDrain } from '../http/http-drain.js';
import { PrototypeStableExpressAdapter } from '../http/express-adapter.js';
import { answerClientErrors } from '../http/client-errors.js';
import { boundClientTimes } from '../http/client-time-bounds.js';
import { defaultMaxConnections, limitConnections, processLimits } from '../http/connection-limit.js';
import { httpMetrics } from '../http/http-metrics.middleware.js';
import { CHECK_BATCH_BODY_OPTIONS, JSON_BODY_OPTIONS, requireJsonBody } from '../http/json-body.js';
import { serveOpenApi } from '../http/openapi/openapi.document.js';
import { requestLog } from '../http/request-log.js';
import { RequestValidationPipe, UndeclaredInputInterceptor } from '../http/request-validation.js';
import { RouteTable } from '../http/route-table.js';
import { createLogger, NestPinoLogger, type Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { RELEASE } from './release.js';
import { AppModule, type AppModuleOptions } from './app.module.js';

/**
 * Builds the HTTP application on an opened runtime; used by main.ts and by the end-to-end tests.
 * `logger` receives every line, the framework's and one per request (standard output unless given).
 */
export async function createHttpApp(options: AppModuleOptions, logger?: Logger): Promise<INestApplication> {
  const log = logger ?? createLogger(options.config.logLevel);
  // Paths match in their exact case: `/V1/tenants` is no route, rather than the same route reached
  // by a spelling that path-based rules (the API-key guard's /v1 scope, the check route's body
  // limit) would not recognise. Nor is a path with a slash after it: a client that resolves
  // `…/members/..` (fetch does, `%2E%2E` too) sends `/v1/tenants/{id}/`, which was the tenant's
  // route, so removing such a member deleted the tenant. Express reads both settings when it
  // creates its router, which Nest's adapter does as soon as it is made: so the instance is made
  // here, set, and handed over, and the settings are checked, since a router made earlier would
  // ignore them silently.
  const instance = express();
  instance.set('case sensitive routing', true);
  instance.set('strict routing', true);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.register(options),
    new PrototypeStableExpressAdapter(instance),
    {
      logger: new NestPinoLogger(log),
      bodyParser: false,
    },
  );
  const router = instance.router as unknown as { caseSensitive?: boolean; strict?: boolean };
  if (router.caseSensitive !== true || router.strict !== true)
    throw new Error('the HTTP router was created before case-sensitive and strict routing could be set');
  limitConnections(
    app.getHttpServer(),
    options.config.httpMaxConnections ?? defaultMaxConnections(processLimits()),
    app.get(Metrics),
    log,
  );
  boundClientTimes(app.getHttpServer(), {
    headersTimeoutMs: options.config.httpHeadersTimeoutMs,
    requestTimeoutMs: options.config.httpRequestTimeoutMs,
    keepAliveTimeoutMs: options.config.httpKeepAliveTimeoutMs,
  });
  answerClientErrors(app.getHttpServer(), app.get(Metrics), log);
  app.get(Metrics).reportRelease(RELEASE);
  const routes = RouteTable.of(instance);
  // Before the body parser and the routes, so that every request is identified, logged and counted,
  // also one refused before it reaches a handler; graceful shutdown waits for each one.
  app.use(app.get(HttpDrain).track);
  app.use(correlate);
  app.use(requestLog(log, routes));
  app.use(httpMetrics(app.get(Metrics), routes));
  // Who is calling is known before the body is read; what it may do, after (the guard).
  app.use(app.get(ApiKeyAuthenticator).beforeBody(routes));
  app.use(requireJsonBody);
  // First: a body the check route's parser has read is not read again by the general one.
  app.useBodyParser('json', CHECK_BATCH_BODY_OPTIONS);
  app.useBodyParser('json', JSON_BODY_OPTIONS);
  app.set('etag', false);
  app.set('x-powered-by', false);
  app.useGlobalPipes(new RequestValidationPipe());
  app.useGlobalInterceptors(new UndeclaredInputInterceptor());
  serveOpenApi(app);
  return app;
}

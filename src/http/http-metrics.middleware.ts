import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from '../observability/metrics.js';
import { statusSent } from './request-log.js';
import type { RouteTable } from './route-table.js';

/**
 * Counts and times every request when its answer is complete, by route pattern and the status that
 * was really sent: guard refusals, unparseable bodies and unknown routes included, which an
 * interceptor (running inside the handler, before the exception filter) never sees.
 */
export function httpMetrics(metrics: Metrics, routes: RouteTable) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const stop = metrics.httpRequests.startTimer();
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      stop({
        method: request.method,
        route: routes.label(request).path,
        status: String(statusSent(response)),
      });
    };
    response.once('finish', record);
    response.once('close', record);
    next();
  };
}

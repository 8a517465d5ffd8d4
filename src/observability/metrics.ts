import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's Prometheus metrics, one registry per application instance. */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Histogram({
    name: 'tenancy_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly commands = new Counter({
    name: 'tenancy_commands_total',
    help: 'Commands handled, by command type and outcome',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly concurrencyRetries = new Counter({
    name: 'tenancy_command_concurrency_retries_total',
    help: 'Commands decided again after another writer appended to the same stream first',
    registers: [this.registry],
  });

  readonly projectionPosition = new Gauge({
    name: 'tenancy_projection_events_applied_total',
    help: 'Events applied by each projection or process manager since start',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  readonly projectionLagSeconds = new Gauge({
    name: 'tenancy_projection_lag_seconds',
    help: 'Age of the last event a projection applied when it applied it',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tenancy_' });
  }
}

import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { logLinesDropped, logWriteErrors } from './log-output.js';

/** How far one consumer of the log is behind its head, measured when the metrics are scraped. */
export interface ConsumerLagSample {
  readonly consumer: string;
  /** Events the consumer has yet to apply (counted up to the measurer's limit). */
  readonly eventsBehind: number;
  /** Age of the oldest event it has yet to apply; 0 when caught up. */
  readonly oldestUnappliedSeconds: number;
}

export interface ConsumerStopSample {
  readonly consumer: string;
  /** Stopped on an event it could not apply, until it is past it. */
  readonly stopped: boolean;
}

export type ConsumerLagSource = () => Promise<readonly ConsumerLagSample[]>;

/** Beyond this many unapplied events a lag measurement stops counting (and reports this many): a scrape must stay cheap. */
export const LAG_COUNT_LIMIT = 10_000;

export interface StateCacheSize {
  readonly tenants: number;
  readonly events: number;
}

/** Outcomes of a command, for tenancy_commands_total. */
export type CommandOutcome = 'applied' | 'unchanged' | 'rejected' | 'conflict' | 'failed';

/** The service's Prometheus metrics, one registry per application instance. */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Histogram({
    name: 'tenancy_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and the status sent, timed until the answer was complete',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly httpConnectionsRefused = new Counter({
    name: 'tenancy_http_connections_refused_total',
    help: 'Connections closed as they arrived because the HTTP server held TENANCY_HTTP_MAX_CONNECTIONS already',
    registers: [this.registry],
  });

  readonly httpClientErrors = new Counter({
    name: 'tenancy_http_client_errors_total',
    help: 'Clients the HTTP server gave up on before a route saw their request, by reason: request_timeout (TENANCY_HTTP_HEADERS_TIMEOUT_MS, TENANCY_HTTP_REQUEST_TIMEOUT_MS), headers_too_large, chunk_extensions_too_large, malformed, connection_reset',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly httpConnectionsOpen = new Gauge({
    name: 'tenancy_http_connections_open',
    help: 'Connections the HTTP server holds open, idle keep-alive ones and event streams included',
    registers: [this.registry],
    collect: () => this.collectConnections(),
  });

  readonly commands = new Counter({
    name: 'tenancy_commands_total',
    help: 'Commands decided, by command type and outcome (applied, unchanged, rejected, conflict, failed)',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly concurrencyRetries = new Counter({
    name: 'tenancy_command_concurrency_retries_total',
    help: 'Commands decided again after another writer appended to the same stream first',
    registers: [this.registry],
  });

  readonly eventsApplied = new Counter({
    name: 'tenancy_consumer_events_applied_total',
    help: "Events applied by each projection or process manager running in this instance, in its transactions (a batch that changes none of a projection's rows opens none and is not counted)",
    labelNames: ['consumer'] as const,
    registers: [this.registry],
  });

  readonly batchesApplied = new Counter({
    name: 'tenancy_consumer_batches_total',
    help: 'Batches (transactions) in which each projection or process manager running in this instance applied its events',
    labelNames: ['consumer'] as const,
    registers: [this.registry],
  });

  readonly projectionDelay = new Histogram({
    name: 'tenancy_projection_delay_seconds',
    help: 'Where the time of each event a live projection applied went, from its append to the commit of its effect, by step (projector_busy, until_read, read, apply, commit)',
    labelNames: ['projection', 'phase'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private lagSource: ConsumerLagSource | undefined;
  private lagMeasurement:
    { readonly at: number; readonly samples: Promise<readonly ConsumerLagSample[]> } | undefined;

  readonly logHorizonHeldSeconds = new Gauge({
    name: 'tenancy_log_horizon_held_seconds',
    help: 'Age of the oldest transaction with a transaction id in the PostgreSQL cluster: the event log reads nothing newer until it ends',
    registers: [this.registry],
  });

  readonly consumerLagEvents = new Gauge({
    name: 'tenancy_consumer_lag_events',
    help: `Events in the log that each projection or process manager has yet to apply, from its stored checkpoint; counted up to ${LAG_COUNT_LIMIT}`,
    labelNames: ['consumer'] as const,
    registers: [this.registry],
    collect: () => this.collectLag(),
  });

  readonly consumerLagSeconds = new Gauge({
    name: 'tenancy_consumer_lag_seconds',
    help: 'Age of the oldest event each projection or process manager has yet to apply; 0 when caught up',
    labelNames: ['consumer'] as const,
    registers: [this.registry],
    collect: () => this.collectLag(),
  });

  readonly operatorKeyPreviousUses = new Counter({
    name: 'tenancy_operator_key_previous_uses_total',
    help: 'Requests authenticated with TENANCY_OPERATOR_KEY_PREVIOUS, the operator key being rotated out: once it stays still, no client uses it',
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'tenancy_http_rate_limited_total',
    help: "Requests refused with 429 RATE_LIMITED: their tenant's keys went past TENANCY_RATE_LIMIT_PER_TENANT and its burst",
    registers: [this.registry],
  });

  private consumersSource: (() => readonly ConsumerStopSample[]) | undefined;

  readonly consumerStopped = new Gauge({
    name: 'tenancy_consumer_stopped',
    help: "1 while this instance's projection or process manager is stopped on an event it could not apply (it tries the event again every TENANCY_CONSUMER_FAILED_RETRY_MS), else 0; only the consumers this instance runs",
    labelNames: ['consumer'] as const,
    registers: [this.registry],
    collect: () => {
      if (!this.consumersSource) return;
      this.consumerStopped.reset();
      for (const { consumer, stopped } of this.consumersSource())
        this.consumerStopped.set({ consumer }, stopped ? 1 : 0);
    },
  });

  private stateCacheSource: (() => StateCacheSize) | undefined;
  private connectionsSource: (() => Promise<number>) | undefined;

  readonly logWriteErrors = new Counter({
    name: 'tenancy_log_write_errors_total',
    help: 'Writes of log lines to standard output that failed, by error code: on ENOSPC (a full disk) the lines are held, up to 4 MiB, until it takes them again; on EIO (its terminal closed) or EPIPE (its reader gone) they are dropped from then on',
    labelNames: ['code'] as const,
    registers: [this.registry],
    // The process's count (its one standard output), whichever instance is scraped.
    collect: () => {
      this.logWriteErrors.reset();
      for (const [code, count] of logWriteErrors()) this.logWriteErrors.inc({ code }, count);
    },
  });

  readonly logLinesDropped = new Counter({
    name: 'tenancy_log_lines_dropped_total',
    help: 'Log lines dropped: every line once standard output is gone (EIO, EPIPE), and each beyond the 4 MiB held while it refuses them; not the lines held at the moment it went away',
    registers: [this.registry],
    collect: () => {
      this.logLinesDropped.reset();
      this.logLinesDropped.inc(logLinesDropped());
    },
  });

  readonly tenantStatesCached = new Gauge({
    name: 'tenancy_tenant_states_cached',
    help: 'Tenants whose folded state this instance keeps in memory (commands and permission checks are decided on it)',
    registers: [this.registry],
    collect: () => this.collectStateCache(),
  });

  readonly tenantStateEventsCached = new Gauge({
    name: 'tenancy_tenant_state_events_cached',
    help: 'Events folded into the tenant states this instance keeps in memory; bounded by TENANCY_STATE_CACHE_EVENTS, except for the tenant in use',
    registers: [this.registry],
    collect: () => this.collectStateCache(),
  });

  readonly buildInfo = new Gauge({
    name: 'tenancy_build_info',
    help: 'Always 1; its labels say which release this process is: the package version and the event schema version it writes (and reads up to)',
    labelNames: ['version', 'schema_version'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tenancy_' });
  }

  /** Which release this process is (the composition root knows; this folder knows nothing of it). */
  reportRelease(release: { readonly version: string; readonly schemaVersion: number }): void {
    this.buildInfo.set({ version: release.version, schema_version: String(release.schemaVersion) }, 1);
  }

  /** Who measures consumer lag (the consumers know their checkpoints; this folder knows nothing of them). */
  reportConsumerLagWith(source: ConsumerLagSource): void {
    this.lagSource = source;
  }

  /** Who knows whether this instance's consumers are stopped on an event (the consumer host). */
  reportConsumersWith(source: () => readonly ConsumerStopSample[]): void {
    this.consumersSource = source;
  }

  /** Who counts the HTTP server's open connections (the server, once the application has one). */
  reportConnectionsWith(source: () => Promise<number>): void {
    this.connectionsSource = source;
  }

  /** Who knows the size of the folded tenant states kept in memory (the command executor). */
  reportStateCacheWith(source: () => StateCacheSize): void {
    this.stateCacheSource = source;
  }

  private async collectConnections(): Promise<void> {
    if (!this.connectionsSource) return;
    this.httpConnectionsOpen.set(await this.connectionsSource());
  }

  private collectStateCache(): void {
    if (!this.stateCacheSource) return;
    const { tenants, events } = this.stateCacheSource();
    this.tenantStatesCached.set(tenants);
    this.tenantStateEventsCached.set(events);
  }

  /** Both lag gauges come from one measurement per scrape. */
  private async collectLag(): Promise<void> {
    if (!this.lagSource) return;
    const now = Date.now();
    if (!this.lagMeasurement || now - this.lagMeasurement.at > 500) {
      this.lagMeasurement = { at: now, samples: this.lagSource() };
    }
    // A failed measurement (database away) leaves the gauges without series instead of failing the scrape.
    const samples = await this.lagMeasurement.samples.catch(() => []);
    this.consumerLagEvents.reset();
    this.consumerLagSeconds.reset();
    for (const sample of samples) {
      this.consumerLagEvents.set({ consumer: sample.consumer }, sample.eventsBehind);
      this.consumerLagSeconds.set({ consumer: sample.consumer }, sample.oldestUnappliedSeconds);
    }
  }
}

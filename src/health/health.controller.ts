import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiResponse, type ApiResponseSchemaHost } from '@nestjs/swagger';
import type { Response } from 'express';
import type pg from 'pg';
import { ApiKeyRegistry } from '../application/access/api-key.registry.js';
import { ConsumerHost } from '../consumers/consumer-host.service.js';
import { recentDatabaseRefusal } from '../database/database-refusals.js';
import { EMBEDDED_POSTGRES, type RunningPostgres } from '../database/embedded-postgres.server.js';
import { PG_POOL } from '../database/postgres-pool.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { logOutputFailure } from '../observability/log-output.js';
import { HttpDrain } from '../http/http-drain.js';
import { LogHorizonWatch } from './log-horizon.watch.js';

/**
 * How long readiness waits for a check that needs the database. Behind a lock held on the log, a
 * check's statement waits as long as the statement timeout (30 s), far past any probe's timeout:
 * the probe would fail without a word of why. Past this the check is down, and says so.
 */
const CHECK_TIMEOUT_MS = 2_000;

/** One check's verdict and what it found. */
export type CheckResult = { readonly status: 'up' | 'down' | 'degraded' } & Record<string, unknown>;

export interface Readiness {
  /** ok: every check up; degraded: serving, but something needs an operator; error: not ready. */
  readonly status: 'ok' | 'degraded' | 'error';
  /** The checks that are up, that are not, and all of them. */
  readonly info: Record<string, CheckResult>;
  readonly error: Record<string, CheckResult>;
  readonly details: Record<string, CheckResult>;
}

/** Readiness's body, on a 200 and a 503 alike: each check's state and what it found. */
const CHECKS: ApiResponseSchemaHost['schema'] = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    properties: { status: { type: 'string', enum: ['up', 'down', 'degraded'] } },
    required: ['status'],
  },
};
const READINESS_SCHEMA: ApiResponseSchemaHost['schema'] = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded', 'error'] },
    info: { ...CHECKS, description: 'The checks that are up (or degraded)' },
    error: { ...CHECKS, description: 'The checks that are down, each with its reason' },
    details: {
      ...CHECKS,
      description:
        'Every check: shutdown (only once SIGTERM came with TENANCY_SHUTDOWN_DELAY_MS set), database, eventStore, consumers (each with state, position, caughtUp), apiKeys, logHorizon, logOutput',
    },
  },
  required: ['status', 'info', 'error', 'details'],
};

/**
 * Liveness (the process answers) and readiness: each check with its state and what it found, in
 * the body of a 200 or a 503 alike, so that whoever looks sees what is wrong without the logs.
 */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    private readonly consumerHost: ConsumerHost,
    private readonly horizon: LogHorizonWatch,
    private readonly apiKeys: ApiKeyRegistry,
    @Inject(EMBEDDED_POSTGRES) private readonly embedded: RunningPostgres | null,
    private readonly drain: HttpDrain,
  ) {}

  @Get('live')
  @ApiResponse({
    status: 200,
    description: 'The process answers',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          properties: { status: { type: 'string', enum: ['ok'] } },
          required: ['status'],
        },
      },
    },
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Each check still running, shared by the probes that arrive meanwhile instead of run again. */
  private readonly running = new Map<string, Promise<CheckResult | undefined>>();

  @Get(['ready', ''])
  @ApiResponse({
    status: 200,
    description: 'Ready: every check up (ok), or serving while something needs an operator (degraded)',
    content: { 'application/json': { schema: READINESS_SCHEMA } },
  })
  @ApiResponse({
    status: 503,
    description: 'Not ready: a check is down (status error); `error` names it and its reason',
    content: { 'application/json': { schema: READINESS_SCHEMA } },
  })
  async ready(@Res({ passthrough: true }) response: Response): Promise<Readiness> {
    const [database, eventStore, horizon] = await Promise.all([
      this.bounded('database', () => this.database()),
      this.bounded('eventStore', () => this.events()),
      // Late like held: the same for every instance, so it degrades readiness and fails none.
      this.bounded('logHorizon', () => this.logHorizon(), 'degraded'),
    ]);
    const shutdown = this.drain.shutdown;
    const details: Record<string, CheckResult> = {
      // First: a stop under way is what the load balancer must act on.
      ...(shutdown === undefined
        ? {}
        : {
            shutdown: {
              status: 'down',
              message: `${shutdown.signal} received: still serving for ${(shutdown.stopsAt.getTime() - shutdown.at.getTime()) / 1000} s, then stopping`,
              since: shutdown.at.toISOString(),
              stopsAt: shutdown.stopsAt.toISOString(),
            },
          }),
      database,
      eventStore,
      consumers: this.consumerStates(),
      apiKeys: this.apiKeyState(),
      ...(horizon === undefined ? {} : { logHorizon: horizon }),
      logOutput: this.logOutputState(),
    };
    const entries = Object.entries(details);
    const down = entries.filter(([, check]) => check.status === 'down');
    const degraded = entries.some(([, check]) => check.status === 'degraded');
    response.status(down.length > 0 ? 503 : 200);
    return {
      status: down.length > 0 ? 'error' : degraded ? 'degraded' : 'ok',
      info: Object.fromEntries(entries.filter(([, check]) => check.status !== 'down')),
      error: Object.fromEntries(down),
      details,
    };
  }

  /**
   * The check's verdict, or down (or what the caller says) if it does not come within CHECK_TIMEOUT_MS. A check that did not
   * answer keeps running (its statement cannot be taken back), and later probes wait for that one
   * rather than start another: probes every second behind a long lock would otherwise take one
   * pooled connection each, until none were left for requests.
   */
  private bounded<T extends CheckResult | undefined>(
    name: string,
    check: () => Promise<T>,
    whenLate: 'down' | 'degraded' = 'down',
  ): Promise<T | CheckResult> {
    let pending = this.running.get(name) as Promise<T> | undefined;
    if (pending === undefined) {
      pending = check().finally(() => this.running.delete(name));
      this.running.set(name, pending);
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(
        () => resolve({ status: whenLate, message: `no answer within ${CHECK_TIMEOUT_MS / 1000} s` }),
        CHECK_TIMEOUT_MS,
      );
    });
    return Promise.race([pending, late]).finally(() => clearTimeout(timer));
  }

  /**
   * Up when the database answers and takes writes. One that answers but takes none (a standby
   * still at the service's address after a failover, or a database set read-only), or refuses
   * work for want of a resource (a full disk: see database-refusals), degrades readiness and fails
   * no instance: every instance sees the same, reads are still served, and writes are told to
   * retry (503) until it is put right.
   */
  private async database(): Promise<CheckResult> {
    try {
      const { rows } = await this.pool.query<{ read_only: boolean; standby: boolean }>(
        `SELECT current_setting('transaction_read_only') = 'on' AS read_only, pg_is_in_recovery() AS standby`,
      );
      const pool = {
        total: this.pool.totalCount,
        idle: this.pool.idleCount,
        waiting: this.pool.waitingCount,
      };
      const { read_only: readOnly, standby } = rows[0] ?? { read_only: false, standby: false };
      const refusal = readOnly ? undefined : recentDatabaseRefusal();
      if (refusal !== undefined) {
        return {
          status: 'degraded',
          message: `the database refuses work: ${refusal.reason} (${refusal.message}); requests that need it answer 503 until it is put right`,
          sqlState: refusal.sqlState,
          lastRefusedAt: refusal.at.toISOString(),
          pool,
        };
      }
      if (!readOnly) return { status: 'up', pool };
      const why = standby ? 'it is a standby (in recovery)' : 'default_transaction_read_only is on';
      return {
        status: 'degraded',
        message: `the database takes no writes: ${why}; writes answer 503 until it does`,
        pool,
      };
    } catch (error) {
      // The embedded server this process runs: why it is not running, in the server's own words.
      const trouble = this.embedded?.trouble();
      return {
        status: 'down',
        message: messageOf(error),
        ...(trouble === undefined ? {} : { embeddedServer: `not running: ${trouble}` }),
      };
    }
  }

  /**
   * Tenant keys are verified against this instance's own copy of them, read from the log at start:
   * until it is complete every request with a tenant key is refused (503 KEYS_LOADING), so the
   * instance is not ready for traffic yet.
   */
  /**
   * Standard output refusing the log lines (a full disk, a closed terminal) needs an operator, and
   * fails no request: degraded, not down.
   */
  private logOutputState(): CheckResult {
    const failure = logOutputFailure();
    if (failure === undefined) return { status: 'up' };
    return {
      status: 'degraded',
      error: failure.code,
      since: failure.since.toISOString(),
      message: failure.gone
        ? 'standard output is gone: log lines are dropped'
        : 'standard output refuses log lines: they are held (up to 4 MiB), then dropped',
    };
  }

  private apiKeyState(): CheckResult {
    const unreadable = this.apiKeys.unreadableEvent();
    // Degraded, not down, also while it was still loading: it will load no further, the operator
    // key works, and every other instance of this version is in the same state, so failing
    // readiness would take them all out of the load balancer.
    if (unreadable !== undefined) {
      return {
        status: 'degraded',
        message: `stopped at a key event a newer version wrote (${unreadable.message}); tenant keys are refused until an upgraded instance serves them`,
      };
    }
    return this.apiKeys.isReady()
      ? { status: 'up' }
      : {
          status: 'down',
          message: 'loading API keys from the log; tenant keys are refused until it is done',
        };
  }

  /**
   * A consumer that gave up on an event needs an operator, and says so (degraded), but does not fail
   * readiness: its lock is released, the instance that takes it over stops on the same event, and a
   * failing readiness would take every instance out of the load balancer, writes included, while
   * only that read model or process stands still.
   */
  private consumerStates(): CheckResult {
    if (!this.consumerHost.runsConsumers) {
      return {
        status: 'up',
        runHere: false,
        message:
          'TENANCY_RUN_CONSUMERS=false: this instance runs no projections or process managers; tenancy_consumer_lag_seconds says how far those running elsewhere are',
      };
    }
    const statuses = this.consumerHost.statuses();
    const details = Object.fromEntries(
      statuses.map((status) => [
        status.name,
        {
          state: status.state,
          position: status.position ?? null,
          caughtUp: status.caughtUp,
          ...(status.failure ? { failure: status.failure } : {}),
        },
      ]),
    );
    // A consumer trying the event again is still failing, whatever its state, until it gets past.
    if (!statuses.some((status) => status.failure !== undefined)) return { status: 'up', ...details };
    const retryMs = this.consumerHost.failedRetryMs;
    return {
      status: 'degraded',
      message:
        retryMs > 0
          ? `a consumer stopped on an event it could not apply; it tries the event again every ${retryMs / 1000} s, so fixing the cause is enough`
          : 'a consumer stopped on an event it could not apply; fix the cause, then restart to retry it',
      ...details,
    };
  }

  private async events(): Promise<CheckResult> {
    try {
      const head = await this.eventStore.headPosition();
      const state = connectionStateOf(this.eventStore);
      return state === 'disconnected'
        ? { status: 'down', connection: state }
        : { status: 'up', head: head ?? null, ...(state ? { connection: state } : {}) };
    } catch (error) {
      return { status: 'down', message: messageOf(error) };
    }
  }

  /**
   * A transaction held open anywhere in the cluster stalls every projection and subscriber. It is
   * reported (degraded), not failed: the condition is the same for every instance, and failing
   * readiness would take them all out of the load balancer, writes included.
   */
  private async logHorizon(): Promise<CheckResult | undefined> {
    if (!this.horizon.enabled) return undefined;
    const found = await this.horizon.check();
    switch (found.status) {
      case 'up':
        return { status: 'up', oldestTransactionSeconds: found.oldestTransactionSeconds };
      case 'held':
        return {
          status: 'degraded',
          message: 'a transaction holds the event log back: projections and subscribers wait until it ends',
          heldBy: found.heldBy,
        };
      case 'unknown':
        return { status: 'degraded', message: `cannot see what holds the log back: ${found.reason}` };
    }
  }
}

function connectionStateOf(store: EventStore): string | undefined {
  const candidate = store as EventStore & { connectionState?: () => string };
  return typeof candidate.connectionState === 'function' ? candidate.connectionState() : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

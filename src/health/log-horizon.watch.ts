import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type pg from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { PG_POOL } from '../database/postgres-pool.js';
import { Metrics } from '../observability/metrics.js';

/** The transaction that holds the log's read horizon back, as PostgreSQL reports it. */
export interface HorizonHolder {
  readonly pid: number;
  readonly database: string | null;
  readonly user: string | null;
  readonly application: string | null;
  readonly state: string | null;
  readonly heldForSeconds: number;
}

export type HorizonStatus =
  | { readonly status: 'up'; readonly oldestTransactionSeconds: number }
  | { readonly status: 'held'; readonly heldBy: HorizonHolder }
  | { readonly status: 'unknown'; readonly reason: string };

const POLL_MS = 500;

/**
 * Watches what holds the PostgreSQL event log's read horizon back. Readers only read events below
 * the oldest transaction still running anywhere in the cluster (pg_snapshot_xmin), so a write
 * transaction left open in any database of the same server stalls every projection and every
 * subscriber, silently. This finds the oldest transaction that has a transaction id (those the
 * log's readers pass over, such as a replay's chunks, aside: see the PostgreSQL adapter's
 * HORIZON), exposes its age as a metric, names it in the log once when it has held the horizon
 * longer than the threshold, and tells readiness.
 *
 * Reading other sessions' transaction ids needs a superuser or the pg_read_all_stats role; without
 * it the watch reports 'unknown' (see docs/operations.md).
 */
@Injectable()
export class LogHorizonWatch implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LogHorizon');
  private current: HorizonStatus = { status: 'up', oldestTransactionSeconds: 0 };
  private timer: NodeJS.Timeout | undefined;
  private reported: string | undefined;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /** Only the PostgreSQL event store has this horizon. */
  get enabled(): boolean {
    return this.config.eventStoreUrl === undefined;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => void this.check(), POLL_MS);
    this.timer.unref();
    void this.check();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  status(): HorizonStatus {
    return this.current;
  }

  /** Looks once; public so that readiness can look now rather than at the next poll. */
  async check(): Promise<HorizonStatus> {
    try {
      const { rows } = await this.pool.query<{
        pid: number;
        datname: string | null;
        usename: string | null;
        application_name: string | null;
        state: string | null;
        seconds: number | null;
      }>(
        `SELECT pid, datname, usename, application_name, state,
                extract(epoch FROM clock_timestamp() - xact_start)::float8 AS seconds
         FROM pg_stat_activity
         WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
           AND NOT EXISTS (SELECT 1 FROM log_horizon_exemptions x WHERE xid(x.transaction_id) = backend_xid)
         ORDER BY age(backend_xid) DESC
         LIMIT 1`,
      );
      const oldest = rows[0];
      const seconds = Math.max(0, oldest?.seconds ?? 0);
      this.metrics.logHorizonHeldSeconds.set(seconds);
      if (oldest === undefined || seconds * 1000 < this.config.logHorizonThresholdMs) {
        if (this.reported !== undefined) this.logger.log('the log horizon moves again');
        this.reported = undefined;
        this.current = { status: 'up', oldestTransactionSeconds: seconds };
        return this.current;
      }
      const heldBy: HorizonHolder = {
        pid: oldest.pid,
        database: oldest.datname,
        user: oldest.usename,
        application: oldest.application_name,
        state: oldest.state,
        heldForSeconds: Math.round(seconds * 10) / 10,
      };
      const key = `${oldest.pid}/${oldest.datname ?? ''}`;
      if (this.reported !== key) {
        this.reported = key;
        this.logger.warn(
          `the log horizon is held back by transaction of pid ${heldBy.pid} in database ${heldBy.database ?? '?'} ` +
            `(user ${heldBy.user ?? '?'}, application ${heldBy.application || '?'}, ${heldBy.state ?? '?'}), ` +
            `open for ${heldBy.heldForSeconds} s: projections and subscribers wait until it ends`,
        );
      }
      this.current = { status: 'held', heldBy };
      return this.current;
    } catch (error) {
      this.current = { status: 'unknown', reason: error instanceof Error ? error.message : String(error) };
      return this.current;
    }
  }
}

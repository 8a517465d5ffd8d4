import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type pg from 'pg';
import type { EventStore } from '../event-store/event-store.port.js';
import { EVENT_STORE } from '../event-store/event-store.port.js';
import { PG_POOL } from '../database/postgres-pool.js';
import { ConsumerHost } from '../consumers/consumer-host.service.js';

/** Liveness (the process answers) and readiness (its database and event store answer). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    private readonly consumerHost: ConsumerHost,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get(['ready', ''])
  @HealthCheck()
  ready() {
    return this.health.check([() => this.database(), () => this.events(), () => this.consumerStates()]);
  }

  private async database() {
    const indicator = this.indicators.check('database');
    try {
      await this.pool.query('SELECT 1');
      return indicator.up({
        pool: { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount },
      });
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }

  /** A consumer that gave up on an event needs an operator: the instance is not healthy. */
  private consumerStates() {
    const indicator = this.indicators.check('consumers');
    const statuses = this.consumerHost.statuses();
    const details = Object.fromEntries(
      statuses.map((status) => [
        status.name,
        {
          state: status.state,
          position: status.position ?? null,
          ...(status.failure ? { failure: status.failure } : {}),
        },
      ]),
    );
    return statuses.some((status) => status.state === 'failed')
      ? indicator.down(details)
      : indicator.up(details);
  }

  private async events() {
    const indicator = this.indicators.check('eventStore');
    try {
      const head = await this.eventStore.headPosition();
      const state = connectionStateOf(this.eventStore);
      return state === 'disconnected'
        ? indicator.down({ connection: state })
        : indicator.up({ head: head ?? null, ...(state ? { connection: state } : {}) });
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}

function connectionStateOf(store: EventStore): string | undefined {
  const candidate = store as EventStore & { connectionState?: () => string };
  return typeof candidate.connectionState === 'function' ? candidate.connectionState() : undefined;
}

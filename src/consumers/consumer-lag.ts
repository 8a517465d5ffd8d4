import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { quoteIdentifier } from '../database/database-urls.js';
import { PG_POOL } from '../database/postgres-pool.js';
import {
  EVENT_STORE,
  type EventFilter,
  type EventStore,
  type Position,
} from '../event-store/event-store.port.js';
import { LAG_COUNT_LIMIT, Metrics, type ConsumerLagSample } from '../observability/metrics.js';
import { LIVE_READ_MODEL_SCHEMA, READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';
import { PROCESS_MANAGERS, type ProcessManager } from './process-manager.js';

/**
 * Measures, when the metrics are scraped, how far each projection and process manager is behind
 * the head of the log: from its stored checkpoint, so a consumer that is stopped, failed, or
 * running in another instance is measured all the same, and the figures keep growing while it
 * stands still (an "age of the last applied event" would freeze instead).
 */
@Injectable()
export class ConsumerLag implements OnModuleInit {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(PROCESS_MANAGERS) private readonly processManagers: readonly ProcessManager[],
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.metrics.reportConsumerLagWith(() => this.measure());
  }

  async measure(now: Date = new Date()): Promise<ConsumerLagSample[]> {
    const checkpoints = await this.checkpoints();
    const consumers = [...READ_MODEL_PROJECTIONS, ...this.processManagers];
    const samples: ConsumerLagSample[] = [];
    for (const consumer of consumers) {
      samples.push(await this.lagOf(consumer.name, consumer.filter, checkpoints.get(consumer.name), now));
    }
    return samples;
  }

  private async lagOf(
    consumer: string,
    filter: EventFilter,
    checkpoint: Position | undefined,
    now: Date,
  ): Promise<ConsumerLagSample> {
    const from = checkpoint === undefined ? {} : { after: checkpoint };
    // The oldest unapplied event is read; the rest are only counted. Reading them all (up to the
    // limit, for every consumer) made a scrape during a catch-up take seconds.
    const first = await this.store.readAll({ ...from, maxCount: 1, filter });
    const oldest = first.events[0]?.recordedAt;
    const eventsBehind =
      oldest === undefined ? 0 : await this.store.countEvents({ ...from, filter, limit: LAG_COUNT_LIMIT });
    return {
      consumer,
      eventsBehind,
      oldestUnappliedSeconds:
        oldest === undefined ? 0 : Math.max(0, (now.getTime() - oldest.getTime()) / 1000),
    };
  }

  /** Every consumer's stored checkpoint, read models' and process managers' alike, in one query. */
  private async checkpoints(): Promise<Map<string, Position>> {
    const { rows } = await this.pool.query<{ consumer: string; position: string }>(
      `SELECT projection AS consumer, position FROM ${quoteIdentifier(LIVE_READ_MODEL_SCHEMA)}.checkpoints
       UNION ALL SELECT process, position FROM public.process_checkpoints`,
    );
    return new Map(rows.map((row) => [row.consumer, row.position as Position]));
  }
}

import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DATABASE_URL } from '../database/postgres-pool.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { Metrics } from '../observability/metrics.js';
import {
  enterReadModelSchema,
  enterReadModelSchemaSql,
  executeProjectionSql,
  prepareProjectionSql,
} from '../../projections/projection.applier.js';
import { moveReadModelCheckpointSql } from '../../projections/read-model.checkpoints.js';
import { LIVE_READ_MODEL_SCHEMA, READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';
import { CheckpointedConsumer, type ConsumerStatus } from './checkpointed-consumer.js';
import { processCheckpoints, readModelCheckpoints } from './checkpoint-stores.js';
import { DELIVERY_PHASES, deliveryPhases } from './delivery-delay.js';
import { PROCESS_MANAGERS, type ProcessManager } from './process-manager.js';
import { ProjectionProgress } from './projection-progress.js';

/**
 * Runs the log's consumers inside the service: the read-model projections and the process
 * managers. Every instance runs them all; each consumer is active in one instance at a time.
 */
@Injectable()
export class ConsumerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Consumers');
  private readonly consumers: CheckpointedConsumer[] = [];

  constructor(
    @Inject(DATABASE_URL) private readonly databaseUrl: string,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PROCESS_MANAGERS) private readonly processManagers: readonly ProcessManager[],
    private readonly metrics: Metrics,
    private readonly progress: ProjectionProgress,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runConsumers) {
      this.logger.log('TENANCY_RUN_CONSUMERS=false: this instance runs no projections or process managers');
      return;
    }
    this.startProjections();
    this.startProcessManagers();
    this.metrics.reportConsumersWith(() =>
      this.statuses().map((status) => ({ consumer: status.name, stopped: status.failure !== undefined })),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
  }

  /** False where TENANCY_RUN_CONSUMERS=false: this instance runs none of them. */
  get runsConsumers(): boolean {
    return this.config.runConsumers;
  }

  /** How long after stopping on an event a consumer tries it again (0: only at a restart). */
  get failedRetryMs(): number {
    return this.config.consumerFailedRetryMs;
  }

  statuses(): ConsumerStatus[] {
    return this.consumers.map((consumer) => consumer.status());
  }

  private startProjections(): void {
    for (const projection of READ_MODEL_PROJECTIONS) {
      this.launch(
        new CheckpointedConsumer({
          name: projection.name,
          filter: projection.filter,
          store: this.store,
          connectionString: this.databaseUrl,
          checkpoints: readModelCheckpoints,
          sessionTimeoutMs: this.config.consumerSessionTimeoutMs,
          retryFailedAfterMs: this.config.consumerFailedRetryMs,
          prepareTransaction: (client) => enterReadModelSchema(client, LIVE_READ_MODEL_SCHEMA),
          sqlBatch: {
            prepare: enterReadModelSchemaSql(LIVE_READ_MODEL_SCHEMA),
            prepareSession: prepareProjectionSql(projection),
            toSql: (events) => executeProjectionSql(projection, events),
            moveCheckpoint: moveReadModelCheckpointSql,
          },
          log: (level, message) => this.logger[level](message),
          onProgress: (applied, stored) => this.progress.progressed(projection.name, applied, stored),
          onCommitted: (_position, events, delivery) => {
            this.metrics.eventsApplied.inc({ consumer: projection.name }, events.length);
            this.metrics.batchesApplied.inc({ consumer: projection.name });
            if (!delivery) return;
            for (const event of events) {
              const phases = deliveryPhases(event, delivery);
              for (const phase of DELIVERY_PHASES) {
                this.metrics.projectionDelay.observe({ projection: projection.name, phase }, phases[phase]);
              }
            }
          },
        }),
      );
    }
  }

  private startProcessManagers(): void {
    for (const process of this.processManagers) {
      this.launch(
        new CheckpointedConsumer({
          name: process.name,
          filter: process.filter,
          store: this.store,
          connectionString: this.databaseUrl,
          checkpoints: processCheckpoints,
          sessionTimeoutMs: this.config.consumerSessionTimeoutMs,
          retryFailedAfterMs: this.config.consumerFailedRetryMs,
          batchSize: 50,
          coalesceMs: 25,
          // Its commands go through the pool: no transaction of the consumer is held open meanwhile.
          act: async (events) => {
            for (const event of events) await process.handle(event);
          },
          log: (level, message) => this.logger[level](message),
          onCommitted: (_position, events) => {
            this.metrics.eventsApplied.inc({ consumer: process.name }, events.length);
            this.metrics.batchesApplied.inc({ consumer: process.name });
          },
        }),
      );
    }
  }

  private launch(consumer: CheckpointedConsumer): void {
    this.consumers.push(consumer);
    consumer.start();
  }
}

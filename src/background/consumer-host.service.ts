import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CascadeDeletionProcess } from '../application/process-managers/cascade-deletion.process.js';
import type { ProcessManager } from '../application/process-managers/process-manager.js';
import { RootBootstrapProcess } from '../application/process-managers/root-bootstrap.process.js';
import { DefaultTenantInitializer } from '../application/default-tenant.initializer.js';
import type { AppConfig } from '../config/app-config.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import {
  CheckpointedConsumer,
  type ConsumerStatus,
} from '../infrastructure/consumers/checkpointed-consumer.js';
import {
  moveReadModelCheckpointSql,
  processCheckpoints,
  readModelCheckpoints,
} from '../infrastructure/consumers/sql-checkpoint-stores.js';
import type { Runtime } from '../infrastructure/runtime.js';
import { APP_CONFIG, RUNTIME } from '../infrastructure/tokens.js';
import { Metrics } from '../observability/metrics.js';
import {
  enterReadModelSchema,
  enterReadModelSchemaSql,
  projectionSql,
} from '../../projections/projection.applier.js';
import { LIVE_READ_MODEL_SCHEMA, READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';
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
    @Inject(RUNTIME) private readonly runtime: Runtime,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly metrics: Metrics,
    private readonly progress: ProjectionProgress,
    private readonly defaultTenant: DefaultTenantInitializer,
    rootBootstrap: RootBootstrapProcess,
    cascadeDeletion: CascadeDeletionProcess,
  ) {
    this.processManagers = [rootBootstrap, cascadeDeletion];
  }

  private readonly processManagers: readonly ProcessManager[];

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.runConsumers) {
      this.logger.log('TENANCY_RUN_CONSUMERS=false: this instance runs no projections or process managers');
    } else {
      this.startProjections();
      this.startProcessManagers();
    }
    await this.defaultTenant.ensure();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
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
          connectionString: this.runtime.databaseUrl,
          checkpoints: readModelCheckpoints,
          prepareTransaction: (client) => enterReadModelSchema(client, LIVE_READ_MODEL_SCHEMA),
          sqlBatch: {
            prepare: enterReadModelSchemaSql(LIVE_READ_MODEL_SCHEMA),
            toSql: (events) => projectionSql(projection, events),
            moveCheckpoint: moveReadModelCheckpointSql,
          },
          log: (level, message) => this.logger[level](message),
          onCommitted: (position, events) => {
            this.progress.committed(projection.name, position);
            this.metrics.projectionPosition.inc({ projection: projection.name }, events.length);
            const last = events[events.length - 1];
            if (last)
              this.metrics.projectionLagSeconds.set(
                { projection: projection.name },
                (Date.now() - last.recordedAt.getTime()) / 1000,
              );
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
          connectionString: this.runtime.databaseUrl,
          checkpoints: processCheckpoints,
          batchSize: 50,
          coalesceMs: 25,
          handle: async (_client, events) => {
            for (const event of events) await process.handle(event);
          },
          log: (level, message) => this.logger[level](message),
          onCommitted: (_position, events) =>
            this.metrics.projectionPosition.inc({ projection: process.name }, events.length),
        }),
      );
    }
  }

  private launch(consumer: CheckpointedConsumer): void {
    this.consumers.push(consumer);
    consumer.start();
  }
}

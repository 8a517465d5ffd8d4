import { Global, Module, type DynamicModule, type ModuleMetadata, type Type } from '@nestjs/common';
import { ConsumerHost } from './consumer-host.service.js';
import { ConsumerLag } from './consumer-lag.js';
import { PROCESS_MANAGERS, type ProcessManager } from './process-manager.js';
import { ProjectionProgress } from './projection-progress.js';

export interface ConsumersModuleOptions {
  /** The modules that provide the process managers. */
  readonly imports: NonNullable<ModuleMetadata['imports']>;
  /** The process managers to run, in the order they start. */
  readonly processManagers: readonly Type<ProcessManager>[];
}

/**
 * The log's consumers running inside the service: the read-model projections and the process
 * managers the composition root names. Global, so that the HTTP layer's Min-Position waits and the
 * health check can see their progress.
 */
@Global()
@Module({})
export class ConsumersModule {
  static register(options: ConsumersModuleOptions): DynamicModule {
    return {
      module: ConsumersModule,
      imports: [...options.imports],
      providers: [
        ConsumerHost,
        ConsumerLag,
        ProjectionProgress,
        {
          provide: PROCESS_MANAGERS,
          useFactory: (...processManagers: ProcessManager[]) => processManagers,
          inject: [...options.processManagers],
        },
      ],
      exports: [ConsumerHost, ProjectionProgress],
    };
  }
}

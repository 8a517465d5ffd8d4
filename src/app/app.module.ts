import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { CLOCK, systemClock, type Clock } from '../application/clock.js';
import { CascadeDeletionProcess } from '../application/process-managers/cascade-deletion.process.js';
import { RootBootstrapProcess } from '../application/process-managers/root-bootstrap.process.js';
import { TenancyApplicationModule } from '../application/tenancy-application.module.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ConsumersModule } from '../consumers/consumers.module.js';
import { DATABASE_URL, PG_POOL } from '../database/postgres-pool.js';
import { EMBEDDED_POSTGRES } from '../database/embedded-postgres.server.js';
import { EVENT_STORE } from '../event-store/event-store.port.js';
import { HealthController } from '../health/health.controller.js';
import { LogHorizonWatch } from '../health/log-horizon.watch.js';
import { ApiKeyAuthenticator } from '../http/auth/api-key.authenticator.js';
import { ApiKeyGuard } from '../http/auth/api-key.guard.js';
import { HttpDrain } from '../http/http-drain.js';
import { HttpApiModule } from '../http/http.module.js';
import { ProblemDetailsFilter } from '../http/problem-details.filter.js';
import { MetricsController } from '../observability/metrics.controller.js';
import { Metrics } from '../observability/metrics.js';
import type { Runtime } from './runtime.js';

export interface AppModuleOptions {
  readonly runtime: Runtime;
  readonly config: AppConfig;
  readonly clock?: Clock;
}

/** Provides what was opened before Nest started (database, event store, config) to every module. */
@Global()
@Module({})
class RuntimeModule {
  static register(options: AppModuleOptions): DynamicModule {
    return {
      module: RuntimeModule,
      providers: [
        { provide: APP_CONFIG, useValue: options.config },
        { provide: PG_POOL, useValue: options.runtime.pool },
        { provide: DATABASE_URL, useValue: options.runtime.databaseUrl },
        { provide: EVENT_STORE, useValue: options.runtime.eventStore },
        { provide: EMBEDDED_POSTGRES, useValue: options.runtime.embedded ?? null },
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        Metrics,
        HttpDrain,
      ],
      exports: [APP_CONFIG, PG_POOL, DATABASE_URL, EVENT_STORE, EMBEDDED_POSTGRES, CLOCK, Metrics, HttpDrain],
    };
  }
}

/** The composition root: which modules make up the service and what runs in it. */
@Module({})
export class AppModule {
  static register(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        RuntimeModule.register(options),
        CqrsModule.forRoot(),
        ConsumersModule.register({
          imports: [TenancyApplicationModule],
          processManagers: [RootBootstrapProcess, CascadeDeletionProcess],
        }),
        HttpApiModule,
        // The global guard resolves in this module: it needs the key registry and access control.
        TenancyApplicationModule,
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        ApiKeyAuthenticator,
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        LogHorizonWatch,
      ],
    };
  }
}

import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
import type { AppConfig } from './config/app-config.js';
import { EVENT_STORE } from './event-store/event-store.port.js';
import { HealthController } from './health/health.controller.js';
import { ApiKeyGuard } from './http/auth/api-key.guard.js';
import { ProblemDetailsFilter } from './http/problem-details.filter.js';
import type { Runtime } from './infrastructure/runtime.js';
import { APP_CONFIG, CLOCK, PG_POOL, RUNTIME, systemClock, type Clock } from './infrastructure/tokens.js';
import { HttpMetricsInterceptor } from './observability/http-metrics.interceptor.js';
import { Metrics } from './observability/metrics.js';
import { MetricsController } from './observability/metrics.controller.js';
import { HttpApiModule } from './http/http.module.js';
import { BackgroundModule } from './background/background.module.js';
import { TenancyApplicationModule } from './application/tenancy-application.module.js';

export interface AppModuleOptions {
  readonly runtime: Runtime;
  readonly config: AppConfig;
  readonly clock?: Clock;
}

/** Provides what was opened before Nest started (database, event store, config) to every module. */
@Global()
@Module({})
class InfrastructureModule {
  static register(options: AppModuleOptions): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [
        { provide: RUNTIME, useValue: options.runtime },
        { provide: APP_CONFIG, useValue: options.config },
        { provide: PG_POOL, useValue: options.runtime.pool },
        { provide: EVENT_STORE, useValue: options.runtime.eventStore },
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        Metrics,
      ],
      exports: [RUNTIME, APP_CONFIG, PG_POOL, EVENT_STORE, CLOCK, Metrics],
    };
  }
}

@Module({})
export class AppModule {
  static register(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        InfrastructureModule.register(options),
        CqrsModule.forRoot(),
        TerminusModule,
        BackgroundModule,
        HttpApiModule,
        // The global guard resolves in this module: it needs the key registry and access control.
        TenancyApplicationModule,
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_INTERCEPTOR, useClass: HttpMetricsInterceptor },
      ],
    };
  }
}

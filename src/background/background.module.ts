import { Global, Module } from '@nestjs/common';
import { TenancyApplicationModule } from '../application/tenancy-application.module.js';
import { ConsumerHost } from './consumer-host.service.js';
import { ProjectionProgress } from './projection-progress.js';

/** The log's consumers (projections, process managers) running inside the service. */
@Global()
@Module({
  imports: [TenancyApplicationModule],
  providers: [ConsumerHost, ProjectionProgress],
  exports: [ConsumerHost, ProjectionProgress],
})
export class BackgroundModule {}

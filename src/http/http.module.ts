import { Module } from '@nestjs/common';
import { TenancyApplicationModule } from '../application/tenancy-application.module.js';
import { TenantsHttpController } from './tenants/tenants.http.controller.js';
import { WorkspacesHttpController } from './tenants/workspaces.http.controller.js';

/** The /v1 API: controllers translate HTTP into commands and queries, nothing more. */
@Module({
  imports: [TenancyApplicationModule],
  controllers: [TenantsHttpController, WorkspacesHttpController],
})
export class HttpApiModule {}

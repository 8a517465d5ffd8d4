import { Module } from '@nestjs/common';
import { TenancyApplicationModule } from '../application/tenancy-application.module.js';
import { EventFeedHttpModule } from './events/event-feed-http.module.js';
import { TenantsHttpController } from './tenants/tenants.http.controller.js';
import { WorkspacesHttpController } from './tenants/workspaces.http.controller.js';
import { TenantQueriesHttpController } from './queries/tenant-queries.http.controller.js';
import { ApiKeysHttpController } from './tenants/api-keys.http.controller.js';
import { MembersHttpController } from './members/members.http.controller.js';
import { GroupsHttpController } from './members/groups.http.controller.js';
import { GrantsHttpController } from './members/grants.http.controller.js';
import { PermissionsHttpController } from './members/permissions.http.controller.js';

/** The /v1 API: controllers translate HTTP into commands and queries, nothing more. */
@Module({
  imports: [TenancyApplicationModule, EventFeedHttpModule],
  controllers: [
    TenantsHttpController,
    WorkspacesHttpController,
    TenantQueriesHttpController,
    ApiKeysHttpController,
    MembersHttpController,
    GroupsHttpController,
    GrantsHttpController,
    PermissionsHttpController,
  ],
})
export class HttpApiModule {}

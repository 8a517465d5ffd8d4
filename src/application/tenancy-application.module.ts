import { Module } from '@nestjs/common';
import { CreateTenantHandler } from './commands/create-tenant.handler.js';
import { CreateWorkspaceHandler } from './commands/create-workspace.handler.js';
import { DeleteTenantHandler } from './commands/delete-tenant.handler.js';
import { DeleteWorkspaceHandler } from './commands/delete-workspace.handler.js';
import { RenameWorkspaceHandler } from './commands/rename-workspace.handler.js';
import { TenantCommandExecutor } from './commands/tenant-command.executor.js';
import { TenantHistoryReader } from './queries/tenant-history.reader.js';
import { TenantNameRegistry } from './commands/tenant-name.registry.js';
import { CascadeDeletionProcess } from './process-managers/cascade-deletion.process.js';
import { RootBootstrapProcess } from './process-managers/root-bootstrap.process.js';
import { DefaultTenantInitializer } from './default-tenant.initializer.js';
import { ReadModelQueries } from './queries/read-model.queries.js';
import { ScopedReader } from './queries/scoped-reader.js';
import { IssueApiKeyHandler } from './commands/issue-api-key.handler.js';
import { RevokeApiKeyHandler } from './commands/revoke-api-key.handler.js';
import { ApiKeyRegistry } from './access/api-key.registry.js';
import { ApiKeyQueries } from './access/api-key.queries.js';
import { AccessControl } from './access/access-control.service.js';
import { TenantStateFollower } from './commands/tenant-state.follower.js';
import { AddMemberHandler, RemoveMemberHandler } from './membership/member.handlers.js';
import {
  AddGroupMemberHandler,
  CreateGroupHandler,
  DeleteGroupHandler,
  RemoveGroupMemberHandler,
  RenameGroupHandler,
} from './membership/group.handlers.js';
import { GrantRoleHandler, RevokeRoleHandler } from './membership/grant.handlers.js';
import { MembershipQueries } from './membership/membership.queries.js';
import { PermissionQueries } from './permissions/permission.queries.js';

const MEMBERSHIP_HANDLERS = [
  AddMemberHandler,
  RemoveMemberHandler,
  CreateGroupHandler,
  RenameGroupHandler,
  DeleteGroupHandler,
  AddGroupMemberHandler,
  RemoveGroupMemberHandler,
  GrantRoleHandler,
  RevokeRoleHandler,
];

/** Tenancy's use cases: command handlers, process managers and read-model queries. */
@Module({
  providers: [
    TenantCommandExecutor,
    TenantNameRegistry,
    TenantHistoryReader,
    CreateTenantHandler,
    CreateWorkspaceHandler,
    RenameWorkspaceHandler,
    DeleteWorkspaceHandler,
    DeleteTenantHandler,
    IssueApiKeyHandler,
    RevokeApiKeyHandler,
    ApiKeyRegistry,
    ApiKeyQueries,
    AccessControl,
    RootBootstrapProcess,
    CascadeDeletionProcess,
    DefaultTenantInitializer,
    ScopedReader,
    ReadModelQueries,
    TenantStateFollower,
    ...MEMBERSHIP_HANDLERS,
    MembershipQueries,
    PermissionQueries,
  ],
  exports: [
    TenantCommandExecutor,
    TenantHistoryReader,
    RootBootstrapProcess,
    CascadeDeletionProcess,
    DefaultTenantInitializer,
    ScopedReader,
    ReadModelQueries,
    ApiKeyRegistry,
    ApiKeyQueries,
    AccessControl,
    TenantStateFollower,
    MembershipQueries,
    PermissionQueries,
  ],
})
export class TenancyApplicationModule {}

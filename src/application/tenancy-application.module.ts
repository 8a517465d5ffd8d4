import { Module } from '@nestjs/common';
import { CreateTenantHandler } from './commands/create-tenant.handler.js';
import { CreateWorkspaceHandler } from './commands/create-workspace.handler.js';
import { DeleteTenantHandler } from './commands/delete-tenant.handler.js';
import { DeleteWorkspaceHandler } from './commands/delete-workspace.handler.js';
import { RenameWorkspaceHandler } from './commands/rename-workspace.handler.js';
import { TenantCommandExecutor } from './tenant-command.executor.js';
import { TenantHistoryReader } from './tenant-history.reader.js';
import { TenantNameRegistry } from './tenant-name.registry.js';

/** The write side of tenancy: the command handlers and what they share. */
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
  ],
  exports: [TenantCommandExecutor, TenantHistoryReader],
})
export class TenancyApplicationModule {}

import { Command } from '@nestjs/cqrs';
import type { QuotaName } from '../../tenancy/quotas.js';
import type { IfMatch } from '../commands/tenant-command.executor.js';
import type { CommandContext } from '../commands/command-context.js';
import type { TenantBody, WorkspaceBody, WriteResult } from '../commands/write-results.js';
import type { TenantQuotasBody } from '../commands/tenant-quotas.js';

export interface TenantStatusBody extends TenantBody {
  /** Present while the tenant is suspended. */
  readonly suspension?: { readonly reason: string };
}

export class SuspendTenantCommand extends Command<WriteResult<TenantStatusBody>> {
  constructor(
    readonly tenantId: string,
    readonly reason: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class ReactivateTenantCommand extends Command<WriteResult<TenantStatusBody>> {
  constructor(
    readonly tenantId: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** Renames the tenant, moving its claim on a globally unique name (tenant-name.registry.ts). */
export class RenameTenantCommand extends Command<WriteResult<TenantStatusBody>> {
  constructor(
    readonly tenantId: string,
    readonly name: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class SetTenantQuotasCommand extends Command<WriteResult<TenantQuotasBody>> {
  constructor(
    readonly tenantId: string,
    readonly quotas: Partial<Record<QuotaName, number | null>>,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

export interface MovedWorkspaceBody extends WorkspaceBody {
  readonly depth: number;
  /** Workspace ids from the root down to this one. */
  readonly path: readonly string[];
}

export class MoveWorkspaceCommand extends Command<WriteResult<MovedWorkspaceBody>> {
  constructor(
    readonly tenantId: string,
    readonly workspaceId: string,
    readonly parentWorkspaceId: string,
    /** The client's If-Match, if it sent one: the command applies only at one of these revisions. */
    readonly ifMatch: IfMatch | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

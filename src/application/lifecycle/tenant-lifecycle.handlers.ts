import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { parseResourceName, resourceNameKey, type ResourceName } from '../../tenancy/resource-name.js';
import { rootWorkspaceIdOf } from '../../tenancy/root-workspace.js';
import { TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';
import { requireActiveTenant } from '../../tenancy/tenant-rules.js';
import {
  findLiveWorkspace,
  type TenantState,
  type WorkspaceLineage,
  type WorkspaceState,
} from '../../tenancy/tenant.state.js';
import {
  RevisionMismatchError,
  requireIfMatch,
  TenantCommandExecutor,
  type CommandOutcome,
} from '../commands/tenant-command.executor.js';
import { TenantNameRegistry } from '../commands/tenant-name.registry.js';
import { quotasOf, type TenantQuotasBody } from '../commands/tenant-quotas.js';
import { workspaceBody, writeResult, type WriteResult } from '../commands/write-results.js';
import {
  MoveWorkspaceCommand,
  ReactivateTenantCommand,
  RenameTenantCommand,
  SetTenantQuotasCommand,
  SuspendTenantCommand,
  type MovedWorkspaceBody,
  type TenantStatusBody,
} from './tenant-lifecycle.commands.js';

@CommandHandler(SuspendTenantCommand)
export class SuspendTenantHandler implements ICommandHandler<SuspendTenantCommand> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({
    tenantId,
    reason,
    ifMatch,
    context,
  }: SuspendTenantCommand): Promise<WriteResult<TenantStatusBody>> {
    const outcome = await this.tenants.execute({ type: 'SuspendTenant', tenantId, reason }, context, {
      ifMatch,
    });
    return writeResult(this.tenants, tenantId, outcome, statusBody(tenantId, outcome.state));
  }
}

@CommandHandler(ReactivateTenantCommand)
export class ReactivateTenantHandler implements ICommandHandler<ReactivateTenantCommand> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({
    tenantId,
    ifMatch,
    context,
  }: ReactivateTenantCommand): Promise<WriteResult<TenantStatusBody>> {
    const outcome = await this.tenants.execute({ type: 'ReactivateTenant', tenantId }, context, { ifMatch });
    return writeResult(this.tenants, tenantId, outcome, statusBody(tenantId, outcome.state));
  }
}

/**
 * The name moves in three steps, each safe to die after: reserve the new name (its own stream),
 * rename the tenant (its stream, recording the reservation), release the old name (naming the
 * reservation that backed it). A crash after the first leaves the tenant named as before and the
 * new name reclaimable after the reclaim window; after the second, the tenant named anew and the
 * old name reclaimable after the window. At no point does a tenant lack a name, nor do two bear one.
 */
@CommandHandler(RenameTenantCommand)
export class RenameTenantHandler implements ICommandHandler<RenameTenantCommand> {
  constructor(
    private readonly tenants: TenantCommandExecutor,
    private readonly names: TenantNameRegistry,
  ) {}

  async execute({
    tenantId,
    name,
    ifMatch,
    context,
  }: RenameTenantCommand): Promise<WriteResult<TenantStatusBody>> {
    let parsed: ResourceName;
    let nameReservation: number | undefined;
    try {
      parsed = parseResourceName(name);
      const { state, revision } = await this.tenants.read(tenantId);
      // Refused before anything is reserved: no claim on a name for a rename that cannot happen. The
      // executor checks If-Match again on the append, for a change that comes in between.
      requireIfMatch(ifMatch, revision);
      requireActiveTenant(state, tenantId);
      const sameKey = state.nameKey === parsed.key;
      nameReservation =
        sameKey || state.name === parsed.display
          ? undefined
          : await this.names.reserve(tenantId, parsed, context);
    } catch (error) {
      this.tenants.countRefusedBeforeDecision('RenameTenant', error);
      throw error;
    }
    let outcome: CommandOutcome;
    try {
      outcome = await this.tenants.execute(
        {
          type: 'RenameTenant',
          tenantId,
          name,
          ...(nameReservation === undefined ? {} : { nameReservation }),
        },
        context,
        { ifMatch },
      );
    } catch (error) {
      // Refused after all (suspended, deleted or changed meanwhile): the claim made for it goes at once.
      const refused = error instanceof TenancyRuleViolation || error instanceof RevisionMismatchError;
      if (nameReservation !== undefined && refused)
        await this.names.release(tenantId, parsed, nameReservation, context);
      throw error;
    }
    for (const event of outcome.events) {
      if (event.type !== 'TenantRenamed' || resourceNameKey(event.data.previousName) === parsed.key) continue;
      await this.names.release(
        tenantId,
        parseResourceName(event.data.previousName),
        event.data.previousNameReservation,
        context,
      );
    }
    return writeResult(this.tenants, tenantId, outcome, statusBody(tenantId, outcome.state));
  }
}

@CommandHandler(SetTenantQuotasCommand)
export class SetTenantQuotasHandler implements ICommandHandler<SetTenantQuotasCommand> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({
    tenantId,
    quotas,
    ifMatch,
    context,
  }: SetTenantQuotasCommand): Promise<WriteResult<TenantQuotasBody>> {
    const outcome = await this.tenants.execute({ type: 'SetTenantQuotas', tenantId, quotas }, context, {
      ifMatch,
    });
    return writeResult(
      this.tenants,
      tenantId,
      outcome,
      quotasOf(tenantId, outcome.state, this.tenants.quotaDefaults),
    );
  }
}

@CommandHandler(MoveWorkspaceCommand)
export class MoveWorkspaceHandler implements ICommandHandler<MoveWorkspaceCommand> {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async execute({
    tenantId,
    workspaceId,
    parentWorkspaceId,
    ifMatch,
    context,
  }: MoveWorkspaceCommand): Promise<WriteResult<MovedWorkspaceBody>> {
    const outcome = await this.tenants.execute(
      { type: 'MoveWorkspace', tenantId, workspaceId, parentWorkspaceId },
      context,
      { ifMatch },
    );
    const workspace = findLiveWorkspace(outcome.state, workspaceId);
    if (workspace === undefined) throw new Error(`workspace ${workspaceId} missing after its move`);
    return writeResult(this.tenants, tenantId, outcome, {
      ...workspaceBody(tenantId, workspace),
      depth: workspace.depth,
      path: pathOf(workspace),
    });
  }
}

/** Root first, the workspace last: its lineage, reversed. O(depth). */
function pathOf(workspace: WorkspaceState): string[] {
  const path: string[] = [];
  for (let link: WorkspaceLineage | null = workspace.lineage; link !== null; link = link.parent)
    path.push(link.workspaceId);
  return path.reverse();
}

function statusBody(tenantId: string, state: TenantState): TenantStatusBody {
  const status = state.status === 'none' ? 'deleted' : state.status;
  return {
    tenantId,
    name: state.name ?? '',
    status,
    rootWorkspaceId: rootWorkspaceIdOf(tenantId),
    ...(state.suspensionReason === undefined ? {} : { suspension: { reason: state.suspensionReason } }),
  };
}

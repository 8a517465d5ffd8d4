import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { parseResourceName, type ResourceName } from '../../tenancy/resource-name.js';
import { TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';
import { rootWorkspaceIdOf } from '../../tenancy/root-workspace.js';
import { parseNewUserId } from '../../tenancy/user-id.js';
import { TenantCommandExecutor, type CommandOutcome } from './tenant-command.executor.js';
import { creationEndRevision } from '../../tenancy/tenancy.decider.js';
import { TenantNameRegistry } from './tenant-name.registry.js';
import type { TenantBody, WriteResult } from './write-results.js';
import { CreateTenantCommand } from './create-tenant.command.js';

@CommandHandler(CreateTenantCommand)
export class CreateTenantHandler implements ICommandHandler<CreateTenantCommand, WriteResult<TenantBody>> {
  constructor(
    private readonly tenants: TenantCommandExecutor,
    private readonly names: TenantNameRegistry,
  ) {}

  async execute({
    tenantId,
    name,
    context,
    adminUserId,
  }: CreateTenantCommand): Promise<WriteResult<TenantBody>> {
    let parsed: ResourceName;
    let nameReservation: number | undefined;
    try {
      parsed = parseResourceName(name);
      // Checked before the name is reserved, so that a bad admin id leaves nothing behind.
      if (adminUserId !== undefined) parseNewUserId(adminUserId, 'adminUserId');
      const current = await this.tenants.read(tenantId);
      // A repeat must not touch the name registry: the name is already this tenant's.
      if (current.state.status === 'none')
        nameReservation = await this.names.reserve(tenantId, parsed, context, 'create');
    } catch (error) {
      // Refused (or failed) before it reached the executor, which counts every other outcome.
      this.tenants.countRefusedBeforeDecision('CreateTenant', error);
      throw error;
    }
    let outcome: CommandOutcome;
    try {
      outcome = await this.tenants.execute(
        {
          type: 'CreateTenant',
          tenantId,
          name,
          ...(adminUserId === undefined ? {} : { adminUserId }),
          ...(nameReservation === undefined ? {} : { nameReservation }),
        },
        context,
      );
    } catch (error) {
      // Refused after all (another create of this id won the race): the claim made for it goes at once.
      if (nameReservation !== undefined && error instanceof TenancyRuleViolation)
        await this.names.release(tenantId, parsed, nameReservation, context);
      // Not recorded (the database went away after the name was claimed, and the client is told to
      // retry): the claim goes too, as far as the database lets it, or the retry, with a tenant id of
      // its own, would find the name taken for minutes. A creation that did commit before its answer
      // was lost keeps its name: a release never takes the name a tenant bears.
      else if (nameReservation !== undefined)
        await this.names.release(tenantId, parsed, nameReservation, context).catch(() => undefined);
      throw error;
    }
    const body: TenantBody = {
      tenantId,
      name: outcome.state.name ?? parsed.display,
      status: outcome.state.status === 'suspended' ? 'suspended' : 'active',
      rootWorkspaceId: rootWorkspaceIdOf(tenantId),
    };
    if (outcome.events.length > 0 && outcome.revision !== undefined) {
      // The revision of the last event appended (the admin's grant when there is one), like any write.
      return { changed: true, body, revision: outcome.revision, position: outcome.position };
    }
    // The same create again: the same answer as the first time, at the end of the creation.
    const revision = creationEndRevision(outcome.state);
    return { changed: false, body, revision, position: await this.tenants.positionAt(tenantId, revision) };
  }
}

import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Metrics } from '../../observability/metrics.js';
import { parseResourceName, type ResourceName } from '../../tenancy/resource-name.js';
import { TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';
import { rootWorkspaceIdOf } from '../../tenancy/root-workspace.js';
import { parseUserId } from '../../tenancy/user-id.js';
import { TenantCommandExecutor } from './tenant-command.executor.js';
import { TenantNameRegistry } from './tenant-name.registry.js';
import type { TenantBody, WriteResult } from './write-results.js';
import { CreateTenantCommand } from './create-tenant.command.js';

/** The revision of TenantCreated: the first event of every tenant stream. */
const CREATED_REVISION = 0;

@CommandHandler(CreateTenantCommand)
export class CreateTenantHandler implements ICommandHandler<CreateTenantCommand, WriteResult<TenantBody>> {
  constructor(
    private readonly tenants: TenantCommandExecutor,
    private readonly names: TenantNameRegistry,
    private readonly metrics: Metrics,
  ) {}

  async execute({
    tenantId,
    name,
    context,
    adminUserId,
  }: CreateTenantCommand): Promise<WriteResult<TenantBody>> {
    let parsed: ResourceName;
    try {
      parsed = parseResourceName(name);
      // Checked before the name is reserved, so that a bad admin id leaves nothing behind.
      if (adminUserId !== undefined) parseUserId(adminUserId);
      const current = await this.tenants.read(tenantId);
      // A repeat must not touch the name registry: the name is already this tenant's.
      if (current.state.status === 'none') await this.names.reserve(tenantId, parsed, context);
    } catch (error) {
      // Refused before it reached the executor, which counts every other outcome.
      if (error instanceof TenancyRuleViolation)
        this.metrics.commands.inc({ command: 'CreateTenant', outcome: 'rejected' });
      throw error;
    }
    const outcome = await this.tenants.execute(
      { type: 'CreateTenant', tenantId, name, ...(adminUserId === undefined ? {} : { adminUserId }) },
      context,
    );
    const body: TenantBody = {
      tenantId,
      name: outcome.state.name ?? parsed.display,
      status: 'active',
      rootWorkspaceId: rootWorkspaceIdOf(tenantId),
    };
    if (outcome.events.length > 0) {
      return { changed: true, body, revision: CREATED_REVISION, position: outcome.position };
    }
    // The same create again: the same answer as the first time.
    return {
      changed: false,
      body,
      revision: CREATED_REVISION,
      position: await this.tenants.positionAt(tenantId, CREATED_REVISION),
    };
  }
}

import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { CLOCK, type Clock } from './clock.js';
import { parseResourceName } from '../tenancy/resource-name.js';
import { uuidV5 } from '../tenancy/uuid.js';
import { TenantCommandExecutor } from './commands/tenant-command.executor.js';
import { TenantNameRegistry } from './commands/tenant-name.registry.js';

/** Namespace of default-tenant ids: the id follows from the name, so every instance agrees on it. */
const DEFAULT_TENANT_NAMESPACE = '3f5e8a2c-7b14-4d9e-a6c1-0e2f4b7d9a13';

/**
 * With TENANCY_DEFAULT_TENANT set, start-up ensures that tenant and its root exist. Instances
 * starting at once all derive the same tenant id, so the stream's expected revision lets exactly
 * one create it and the others find it there.
 */
@Injectable()
export class DefaultTenantInitializer implements OnApplicationBootstrap {
  private readonly logger = new Logger('DefaultTenant');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly tenants: TenantCommandExecutor,
    private readonly names: TenantNameRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensure();
  }

  async ensure(): Promise<string | undefined> {
    const rawName = this.config.defaultTenant;
    if (!rawName) return undefined;
    const name = parseResourceName(rawName);
    const tenantId = defaultTenantIdFor(name.key);
    const context = {
      actor: 'system:default-tenant',
      correlationId: `default-tenant-${tenantId}`,
      causationId: 'startup',
      now: this.clock.now(),
    };
    const current = await this.tenants.read(tenantId);
    if (current.state.status !== 'none') {
      // Present, perhaps renamed or suspended since: its id follows from the configured name, and
      // it is the same tenant whatever it is called now.
      if (current.state.status === 'active' || current.state.status === 'suspended')
        await this.tenants.execute({ type: 'BootstrapRootWorkspace', tenantId }, context);
      this.logger.log(
        `default tenant ${JSON.stringify(name.display)} (${tenantId}) present as ${JSON.stringify(current.state.name)}, ${current.state.status}`,
      );
      return tenantId;
    }
    const nameReservation = await this.names.reserve(tenantId, name, context);
    const created = await this.tenants.execute(
      { type: 'CreateTenant', tenantId, name: rawName, nameReservation },
      context,
    );
    await this.tenants.execute({ type: 'BootstrapRootWorkspace', tenantId }, context);
    this.logger.log(
      `default tenant ${JSON.stringify(name.display)} (${tenantId}) ${created.events.length > 0 ? 'created' : 'present'}`,
    );
    return tenantId;
  }
}

export function defaultTenantIdFor(nameKey: string): string {
  return uuidV5(nameKey, DEFAULT_TENANT_NAMESPACE);
}

import { Inject, Injectable } from '@nestjs/common';
import type { RecordedEvent } from '../../event-store/event-store.port.js';
import { CLOCK, type Clock } from '../clock.js';
import { tenantIdOfStream, TENANT_STREAM_PREFIX } from '../../tenancy/tenant-stream.js';
import { TenantCommandExecutor } from '../commands/tenant-command.executor.js';
import type { ProcessManager } from '../../consumers/process-manager.js';
import { originCausedBy } from '../../stored-events/event-metadata.js';

/**
 * Every TenantCreated leads to the tenant's root workspace, exactly once: the root's id is derived
 * from the tenant id and the decider emits nothing when the root exists (for instance because
 * CreateWorkspace created it on demand), so redeliveries, replays and rival instances are harmless.
 */
@Injectable()
export class RootBootstrapProcess implements ProcessManager {
  readonly name = 'root-bootstrap';
  readonly filter = { streamPrefixes: [TENANT_STREAM_PREFIX], eventTypes: ['TenantCreated'] };

  constructor(
    private readonly tenants: TenantCommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async handle(event: RecordedEvent): Promise<void> {
    const tenantId = tenantIdOfStream(event.streamName);
    if (!tenantId) return;
    await this.tenants.execute(
      { type: 'BootstrapRootWorkspace', tenantId },
      originCausedBy(event, `process:${this.name}`, this.clock.now()),
    );
  }
}

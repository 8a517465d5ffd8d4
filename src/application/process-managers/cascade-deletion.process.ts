import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RecordedEvent } from '../../event-store/event-store.port.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, type Clock } from '../clock.js';
import { tenantIdOfStream, TENANT_STREAM_PREFIX } from '../../tenancy/tenant-stream.js';
import { TenantCommandExecutor } from '../commands/tenant-command.executor.js';
import type { ProcessManager } from '../../consumers/process-manager.js';
import { originCausedBy } from '../../stored-events/event-metadata.js';

/**
 * Carries out a started deletion: ContinueDeletion deletes the next batch children-first (the
 * decider picks it from the tenant's current state), until nothing is left; for a tenant the last
 * batch ends with TenantDeleted. The state lives in the stream, so a crash in the middle simply
 * resumes with the next batch when the event is handled again.
 */
@Injectable()
export class CascadeDeletionProcess implements ProcessManager {
  readonly name = 'cascade-deletion';
  readonly filter = {
    streamPrefixes: [TENANT_STREAM_PREFIX],
    eventTypes: ['TenantDeletionStarted', 'WorkspaceDeletionStarted'],
  };
  private readonly logger = new Logger('CascadeDeletion');

  constructor(
    private readonly tenants: TenantCommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async handle(event: RecordedEvent): Promise<void> {
    const tenantId = tenantIdOfStream(event.streamName);
    if (!tenantId) return;
    const scope =
      event.type === 'TenantDeletionStarted'
        ? `tenant ${tenantId}`
        : `workspace ${String(event.data.workspaceId)}`;
    let deleted = 0;
    for (;;) {
      const outcome = await this.tenants.execute(
        { type: 'ContinueDeletion', tenantId, maxBatch: this.config.cascadeBatchSize },
        originCausedBy(event, `process:${this.name}`, this.clock.now()),
      );
      if (outcome.events.length === 0) break;
      deleted += outcome.events.filter((deletedEvent) => deletedEvent.type === 'WorkspaceDeleted').length;
      this.logger.log(
        `deleting ${scope}: ${deleted} workspaces deleted, ${outcome.state.liveWorkspaceCount} left in the tenant`,
      );
    }
  }
}

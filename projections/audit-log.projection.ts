import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import { decodeTenancyEvent } from '../src/application/tenancy-event.codec.js';
import { TENANT_STREAM_PREFIX } from '../src/tenancy/tenant-stream.js';
import type { Projection } from './projection.js';
import { sql, type SqlStatement } from '../src/infrastructure/database/sql-statement.js';
import { occurredAt } from './tenancy-read-model.projection.js';

/** One row per tenant event: who did what, when, and under which correlation. */
export const auditLogProjection: Projection = {
  name: 'audit-log',
  filter: { streamPrefixes: [TENANT_STREAM_PREFIX] },
  tables: ['audit_log'],
  project(recorded: RecordedEvent): readonly SqlStatement[] {
    const event = decodeTenancyEvent(recorded);
    const workspaceId = 'workspaceId' in event.data ? event.data.workspaceId : null;
    const metadata = recorded.metadata;
    return [
      sql`INSERT INTO audit_log (position, tenant_id, workspace_id, stream_revision, event_type, actor, correlation_id,
          causation_id, occurred_at)
        VALUES (${recorded.position}, ${event.data.tenantId}::uuid, ${workspaceId}::uuid, ${recorded.revision}, ${event.type},
          ${textOrNull(metadata.actor)}, ${textOrNull(metadata.correlationId)}, ${textOrNull(metadata.causationId)},
          ${occurredAt(recorded)}::timestamptz)
        ON CONFLICT (position) DO NOTHING`,
    ];
  },
};

function textOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

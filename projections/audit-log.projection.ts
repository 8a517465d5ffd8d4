import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import { metadataText, occurredAt } from '../src/stored-events/event-metadata.js';
import { decodeTenancyEvent } from '../src/stored-events/tenancy-event.codec.js';
import { TENANT_STREAM_PREFIX } from '../src/tenancy/tenant-stream.js';
import type { Projection } from './projection.js';
import { sql, type SqlStatement } from '../src/database/sql-statement.js';

/** One row per tenant event: who did what, when, and under which correlation. */
export const auditLogProjection: Projection = {
  name: 'audit-log',
  filter: { streamPrefixes: [TENANT_STREAM_PREFIX] },
  tables: ['audit_log'],
  project(recorded: RecordedEvent): readonly SqlStatement[] {
    const event = decodeTenancyEvent(recorded);
    const workspaceId = 'workspaceId' in event.data ? event.data.workspaceId : null;
    return [
      sql`INSERT INTO audit_log (position, tenant_id, workspace_id, stream_revision, event_type, actor, correlation_id,
          causation_id, occurred_at)
        VALUES (${recorded.position}, ${event.data.tenantId}::uuid, ${workspaceId}::uuid, ${recorded.revision}, ${event.type},
          ${metadataText(recorded, 'actor')}, ${metadataText(recorded, 'correlationId')},
          ${metadataText(recorded, 'causationId')},
          ${occurredAt(recorded)}::timestamptz)
        ON CONFLICT (position) DO NOTHING`,
    ];
  },
};

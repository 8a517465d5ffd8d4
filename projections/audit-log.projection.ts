import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import { metadataText, occurredAt } from '../src/stored-events/event-metadata.js';
import { decodeTenancyEvent } from '../src/stored-events/tenancy-event.codec.js';
import { TENANT_STREAM_PREFIX } from '../src/tenancy/tenant-stream.js';
import type { Projection, StagingRow } from './projection.js';
import { sql, type SqlStatement } from '../src/database/sql-statement.js';

const AUDIT_COLUMNS = [
  ['position', 'text'],
  ['tenant_id', 'uuid'],
  ['workspace_id', 'uuid'],
  ['stream_revision', 'bigint'],
  ['event_type', 'text'],
  ['actor', 'text'],
  ['correlation_id', 'text'],
  ['causation_id', 'text'],
  ['occurred_at', 'timestamptz'],
] as const;
const AUDIT_COLUMN_LIST = AUDIT_COLUMNS.map(([name]) => name).join(', ');

/** The audit row of one event. */
function auditEntry(recorded: RecordedEvent) {
  const event = decodeTenancyEvent(recorded);
  return {
    position: recorded.position,
    tenantId: event.data.tenantId,
    workspaceId: 'workspaceId' in event.data ? event.data.workspaceId : null,
    revision: recorded.revision,
    type: event.type,
    actor: metadataText(recorded, 'actor'),
    correlationId: metadataText(recorded, 'correlationId'),
    causationId: metadataText(recorded, 'causationId'),
    at: occurredAt(recorded),
  };
}

function auditRow(recorded: RecordedEvent): StagingRow {
  const e = auditEntry(recorded);
  // In the order of AUDIT_COLUMNS.
  return [
    e.position,
    e.tenantId,
    e.workspaceId,
    e.revision,
    e.type,
    e.actor,
    e.correlationId,
    e.causationId,
    e.at,
  ];
}

/** One row per tenant event: who did what, when, and under which correlation. */
export const auditLogProjection: Projection = {
  name: 'audit-log',
  filter: { streamPrefixes: [TENANT_STREAM_PREFIX] },
  tables: ['audit_log'],
  project(recorded: RecordedEvent): readonly SqlStatement[] {
    const e = auditEntry(recorded);
    return [
      sql`INSERT INTO audit_log (position, tenant_id, workspace_id, stream_revision, event_type, actor, correlation_id,
          causation_id, occurred_at)
        VALUES (${e.position}, ${e.tenantId}::uuid, ${e.workspaceId}::uuid, ${e.revision}, ${e.type},
          ${e.actor}, ${e.correlationId}, ${e.causationId}, ${e.at}::timestamptz)
        ON CONFLICT (position) DO NOTHING`,
    ];
  },
  setBased: {
    stagingColumns: AUDIT_COLUMNS,
    stage: (events) => events.map(auditRow),
    applySql: (staged) => `
      INSERT INTO audit_log (${AUDIT_COLUMN_LIST})
      SELECT ${AUDIT_COLUMN_LIST} FROM (${staged}) staged
      ON CONFLICT (position) DO NOTHING`,
    bulkTable: 'audit_log',
  },
};

import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import { occurredAt } from '../src/stored-events/event-metadata.js';
import { decodeTenancyEvent } from '../src/stored-events/tenancy-event.codec.js';
import { TENANT_STREAM_PREFIX } from '../src/tenancy/tenant-stream.js';
import type { TenancyEvent } from '../src/tenancy/tenancy.events.js';
import type { Projection } from './projection.js';
import { sql, type SqlStatement } from '../src/database/sql-statement.js';

/**
 * Tenants and their workspace trees (parent, depth, path from the root, child counts, deletion
 * progress).
 *
 * Every event of a tenant stream moves the tenant row's revision forward, and that update is the
 * guard of the whole event: each statement below runs only if the guard changed the row, so an
 * event delivered again (its revision not newer than the row's) changes nothing. The tenant row's
 * changes ride on the guard itself, because one statement may not update the same row twice.
 */
export const tenancyReadModelProjection: Projection = {
  name: 'tenancy-read-model',
  filter: { streamPrefixes: [TENANT_STREAM_PREFIX] },
  tables: ['tenants', 'workspaces'],
  project(recorded: RecordedEvent): readonly SqlStatement[] {
    return [statementFor(decodeTenancyEvent(recorded), recorded)];
  },
};

function statementFor(event: TenancyEvent, recorded: RecordedEvent): SqlStatement {
  const revision = recorded.revision;
  const at = occurredAt(recorded);
  switch (event.type) {
    case 'TenantCreated': {
      const { tenantId, name } = event.data;
      return sql`INSERT INTO tenants (tenant_id, name, status, workspace_count, revision, created_position, created_at, updated_at)
        VALUES (${tenantId}::uuid, ${name}, 'active', 0, ${revision}, ${recorded.position}, ${at}::timestamptz, ${at}::timestamptz)
        ON CONFLICT (tenant_id) DO NOTHING`;
    }
    case 'WorkspaceCreated': {
      const { tenantId, workspaceId, parentWorkspaceId, name } = event.data;
      if (parentWorkspaceId === null) {
        return sql`WITH guard AS (
            UPDATE tenants SET revision = ${revision}, updated_at = ${at}::timestamptz,
              workspace_count = workspace_count + 1, root_workspace_id = ${workspaceId}::uuid
            WHERE tenant_id = ${tenantId}::uuid AND revision < ${revision} RETURNING 1)
          INSERT INTO workspaces (tenant_id, workspace_id, parent_workspace_id, name, is_root, depth, path, status,
            revision, created_position, created_at, updated_at)
          SELECT ${tenantId}::uuid, ${workspaceId}::uuid, NULL, ${name}, true, 0, ARRAY[${workspaceId}::uuid], 'live',
            ${revision}, ${recorded.position}, ${at}::timestamptz, ${at}::timestamptz
          FROM guard`;
      }
      return sql`WITH guard AS (
          UPDATE tenants SET revision = ${revision}, updated_at = ${at}::timestamptz, workspace_count = workspace_count + 1
          WHERE tenant_id = ${tenantId}::uuid AND revision < ${revision} RETURNING 1),
        parent AS (
          UPDATE workspaces SET child_count = child_count + 1
          WHERE tenant_id = ${tenantId}::uuid AND workspace_id = ${parentWorkspaceId}::uuid AND EXISTS (SELECT 1 FROM guard)
          RETURNING depth, path),
        created AS (
          INSERT INTO workspaces (tenant_id, workspace_id, parent_workspace_id, name, is_root, depth, path, status,
            revision, created_position, created_at, updated_at)
          SELECT ${tenantId}::uuid, ${workspaceId}::uuid, ${parentWorkspaceId}::uuid, ${name}, false, parent.depth + 1,
            parent.path || ${workspaceId}::uuid, 'live', ${revision}, ${recorded.position}, ${at}::timestamptz, ${at}::timestamptz
          FROM parent RETURNING 1)
        SELECT rm_assert(NOT EXISTS (SELECT 1 FROM guard) OR EXISTS (SELECT 1 FROM created),
          ${`WorkspaceCreated ${workspaceId}: parent ${parentWorkspaceId} is not in the read model`})`;
    }
    case 'WorkspaceRenamed': {
      const { tenantId, workspaceId, name } = event.data;
      return sql`WITH guard AS (
          UPDATE tenants SET revision = ${revision}, updated_at = ${at}::timestamptz
          WHERE tenant_id = ${tenantId}::uuid AND revision < ${revision} RETURNING 1),
        renamed AS (
          UPDATE workspaces SET name = ${name}, revision = ${revision}, updated_at = ${at}::timestamptz
          WHERE tenant_id = ${tenantId}::uuid AND workspace_id = ${workspaceId}::uuid AND EXISTS (SELECT 1 FROM guard)
          RETURNING 1)
        SELECT rm_assert(NOT EXISTS (SELECT 1 FROM guard) OR EXISTS (SELECT 1 FROM renamed),
          ${`WorkspaceRenamed ${workspaceId}: no such workspace in the read model`})`;
    }
    case 'WorkspaceDeletionStarted': {
      const { tenantId, workspaceId } = event.data;
      return sql`WITH guard AS (
          UPDATE tenants SET revision = ${revision}, updated_at = ${at}::timestamptz
          WHERE tenant_id = ${tenantId}::uuid AND revision < ${revision} RETURNING 1)
        UPDATE workspaces SET status = 'deleting', revision = ${revision}, updated_at = ${at}::timestamptz, deletion_done = 0,
          deletion_total = (SELECT count(*) FROM workspaces subtree
                            WHERE subtree.tenant_id = ${tenantId}::uuid AND subtree.path @> ARRAY[${workspaceId}::uuid])
        WHERE tenant_id = ${tenantId}::uuid AND workspace_id = ${workspaceId}::uuid AND EXISTS (SELECT 1 FROM guard)`;
    }
    case 'WorkspaceDeleted': {
      const { tenantId, workspaceId } = event.data;
      // Deleting the row before its children fails on the composite foreign key: children first.
      return sql`WITH guard AS (
          UPDATE tenants SET revision = ${revision}, updated_at = ${at}::timestamptz,
            workspace_count = workspace_count - 1,
            deletion_done = CASE WHEN status = 'deleting' THEN deletion_done + 1 ELSE deletion_done END,
            root_workspace_id = CASE WHEN root_workspace_id = ${workspaceId}::uuid THEN NULL ELSE root_workspace_id END
          WHERE tenant_id = ${tenantId}::uuid AND revision < ${revision} RETURNING 1),
        gone AS (
          DELETE FROM workspaces
          WHERE tenant_id = ${tenantId}::uuid AND workspace_id = ${workspaceId}::uuid AND EXISTS (SELECT 1 FROM guard)
          RETURNING parent_workspace_id, path),
        ancestors AS (
          UPDATE workspaces ancestor SET
            child_count = ancestor.child_count - CASE WHEN ancestor.workspace_id = gone.parent_workspace_id THEN 1 ELSE 0 END,
            deletion_done = CASE WHEN ancestor.status = 'deleting' THEN ancestor.deletion_done + 1 ELSE ancestor.deletion_done END
          FROM gone
          WHERE ancestor.tenant_id = ${tenantId}::uuid AND ancestor.workspace_id = ANY (gone.path)
            AND ancestor.workspace_id <> ${workspaceId}::uuid
          RETURNING 1)
        SELECT rm_assert(NOT EXISTS (SELECT 1 FROM guard) OR EXISTS (SELECT 1 FROM gone),
          ${`WorkspaceDeleted ${workspaceId}: no such workspace in the read model`})`;
    }
    case 'TenantDeletionStarted': {
      const { tenantId } = event.data;
      return sql`UPDATE tenants SET revision = ${revision}, updated_at = ${at}::timestamptz, status = 'deleting',
          deletion_total = workspace_count, deletion_done = 0
        WHERE tenant_id = ${tenantId}::uuid AND revision < ${revision}`;
    }
    case 'TenantDeleted': {
      const { tenantId } = event.data;
      return sql`UPDATE tenants SET revision = ${revision}, updated_at = ${at}::timestamptz, status = 'deleted'
        WHERE tenant_id = ${tenantId}::uuid AND revision < ${revision}`;
    }
    case 'ApiKeyIssued':
    case 'ApiKeyRevoked':
    case 'MemberAdded':
    case 'MemberUpdated':
    case 'MemberRemoved':
    case 'GroupCreated':
    case 'GroupRenamed':
    case 'GroupDeleted':
    case 'GroupMemberAdded':
    case 'GroupMemberRemoved':
    case 'RoleGranted':
    case 'RoleRevoked': {
      // Keys and membership are not in these tables (the membership projection has its own), but
      // the tenant's revision must still move: If-Match and Min-Position compare with it.
      const { tenantId } = event.data;
      return sql`UPDATE tenants SET revision = ${revision}, updated_at = ${at}::timestamptz
        WHERE tenant_id = ${tenantId}::uuid AND revision < ${revision}`;
    }
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}

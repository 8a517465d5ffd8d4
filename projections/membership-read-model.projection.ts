import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import { occurredAt } from '../src/stored-events/event-metadata.js';
import { decodeTenancyEvent, requireKnownEventType } from '../src/stored-events/tenancy-event.codec.js';
import { apiKeyGrantIdOf, roleOfApiKey } from '../src/tenancy/api-key-grants.js';
import {
  isTenancyEventType,
  type TenancyEvent,
  type TenancyEventType,
} from '../src/tenancy/tenancy.events.js';
import { TENANT_STREAM_PREFIX } from '../src/tenancy/tenant-stream.js';
import { sql, sqlText, type SqlStatement } from '../src/database/sql-statement.js';
import type { Projection } from './projection.js';
import { loadMembershipAdds, MEMBERSHIP_ADDS } from './membership-read-model.bulk-load.js';

/** The events that change these tables; the rest of a tenant stream only moves the checkpoint. */
const PROJECTED: ReadonlySet<TenancyEventType> = new Set<TenancyEventType>([
  'MemberAdded',
  'MemberUpdated',
  'MemberRemoved',
  'GroupCreated',
  'GroupRenamed',
  'GroupDeleted',
  'GroupMemberAdded',
  'GroupMemberRemoved',
  'RoleGranted',
  'RoleRevoked',
  'PersonalDataErased',
  // An API key's own role is a grant too (src/tenancy/api-key-grants.ts).
  'ApiKeyIssued',
  'ApiKeyRevoked',
  // Histories older than grants deleted workspaces without revoking the keys' roles on them first.
  'WorkspaceDeleted',
  'TenantDeleted',
]);

/**
 * Members, groups, group memberships and active grants of every tenant.
 *
 * Each statement first moves the tenant's row in membership_revisions to the event's stream
 * revision, and does its work only if that move happened: an event delivered again (its revision
 * not newer than the row's) changes nothing.
 */
export const membershipReadModelProjection: Projection = {
  name: 'membership-read-model',
  // Every event of a tenant stream, not only those above: the checkpoint then moves with the other
  // read models', which is what a Min-Position wait compares with (a batch of none of them opens
  // no transaction; its checkpoint is stored a little later: see changedBy).
  filter: { streamPrefixes: [TENANT_STREAM_PREFIX] },
  changedBy: PROJECTED,
  tables: ['membership_revisions', 'members', 'member_groups', 'group_members', 'grants'],
  project(recorded: RecordedEvent): readonly SqlStatement[] {
    if (!PROJECTED.has(requireKnownEventType(recorded))) return [];
    const statement = statementFor(decodeTenancyEvent(recorded), recorded);
    return statement === undefined ? [] : [statement];
  },
  // A rebuild loads runs of the events that only add rows (and of those that change nothing here)
  // in their final form; the others go through the statements above.
  bulkLoad: {
    handles: (event) =>
      MEMBERSHIP_ADDS.has(event.type) || (isTenancyEventType(event.type) && !PROJECTED.has(event.type)),
    load: loadMembershipAdds,
  },
};

function statementFor(event: TenancyEvent, recorded: RecordedEvent): SqlStatement | undefined {
  const at = occurredAt(recorded);
  const position = recorded.position;
  const tenantId = event.data.tenantId;
  const guard = sql`WITH guard AS (
      INSERT INTO membership_revisions AS seen (tenant_id, revision) VALUES (${tenantId}::uuid, ${recorded.revision})
      ON CONFLICT (tenant_id) DO UPDATE SET revision = excluded.revision WHERE seen.revision < excluded.revision
      RETURNING 1)`;
  const guarded = (rest: SqlStatement): SqlStatement => ({
    text: `${guard.text}${renumber(rest.text, guard.values.length)}`,
    values: [...guard.values, ...rest.values],
  });
  const applies = sqlText('EXISTS (SELECT 1 FROM guard)');
  switch (event.type) {
    case 'MemberAdded': {
      // The display name as the event holds it (sealed): revealed, or not, when it is read.
      const { userId, displayName } = event.data;
      return guarded(sql`
        INSERT INTO members (tenant_id, user_id, display_name, added_position, added_at, updated_at)
        SELECT ${tenantId}::uuid, ${userId}, ${jsonOrNull(displayName)}::jsonb, ${position}, ${at}::timestamptz,
          ${at}::timestamptz FROM guard
        ON CONFLICT (tenant_id, user_id) DO NOTHING`);
    }
    case 'MemberUpdated': {
      const { userId, displayName } = event.data;
      return guarded(sql`
        UPDATE members SET display_name = ${jsonOrNull(displayName)}::jsonb, personal_data_erased_at = NULL,
          updated_at = ${at}::timestamptz
        WHERE tenant_id = ${tenantId}::uuid AND user_id = ${userId} AND ${applies}`);
    }
    case 'PersonalDataErased':
      // The sealed name is unreadable already (its key is gone); the row forgets it too.
      return guarded(sql`
        UPDATE members SET display_name = NULL, personal_data_erased_at = ${at}::timestamptz, updated_at = ${at}::timestamptz
        WHERE tenant_id = ${tenantId}::uuid AND user_id = ${event.data.userId} AND ${applies}`);
    case 'MemberRemoved':
      return guarded(sql`
        DELETE FROM members WHERE tenant_id = ${tenantId}::uuid AND user_id = ${event.data.userId} AND ${applies}`);
    case 'GroupCreated': {
      const { groupId, name } = event.data;
      return guarded(sql`
        INSERT INTO member_groups (tenant_id, group_id, name, member_count, created_position, created_at, updated_at)
        SELECT ${tenantId}::uuid, ${groupId}::uuid, ${name}, 0, ${position}, ${at}::timestamptz, ${at}::timestamptz FROM guard
        ON CONFLICT (tenant_id, group_id) DO NOTHING`);
    }
    case 'GroupRenamed': {
      const { groupId, name } = event.data;
      return guarded(sql`
        UPDATE member_groups SET name = ${name}, updated_at = ${at}::timestamptz
        WHERE tenant_id = ${tenantId}::uuid AND group_id = ${groupId}::uuid AND ${applies}`);
    }
    case 'GroupDeleted': {
      const { groupId } = event.data;
      // The group's memberships end with it (its grants were revoked by the events before).
      return guarded(sql`,
        memberships AS (
          DELETE FROM group_members WHERE tenant_id = ${tenantId}::uuid AND group_id = ${groupId}::uuid AND ${applies}
          RETURNING 1)
        DELETE FROM member_groups WHERE tenant_id = ${tenantId}::uuid AND group_id = ${groupId}::uuid AND ${applies}`);
    }
    case 'GroupMemberAdded': {
      const { groupId, userId } = event.data;
      return guarded(sql`,
        added AS (
          INSERT INTO group_members (tenant_id, group_id, user_id, added_position, added_at)
          SELECT ${tenantId}::uuid, ${groupId}::uuid, ${userId}, ${position}, ${at}::timestamptz FROM guard
          ON CONFLICT (tenant_id, group_id, user_id) DO NOTHING
          RETURNING 1)
        UPDATE member_groups SET member_count = member_count + 1, updated_at = ${at}::timestamptz
        WHERE tenant_id = ${tenantId}::uuid AND group_id = ${groupId}::uuid AND EXISTS (SELECT 1 FROM added)`);
    }
    case 'GroupMemberRemoved': {
      const { groupId, userId } = event.data;
      return guarded(sql`,
        removed AS (
          DELETE FROM group_members
          WHERE tenant_id = ${tenantId}::uuid AND group_id = ${groupId}::uuid AND user_id = ${userId} AND ${applies}
          RETURNING 1)
        UPDATE member_groups SET member_count = member_count - 1, updated_at = ${at}::timestamptz
        WHERE tenant_id = ${tenantId}::uuid AND group_id = ${groupId}::uuid AND EXISTS (SELECT 1 FROM removed)`);
    }
    case 'RoleGranted': {
      const { grantId, principal, role, workspaceId } = event.data;
      return guarded(sql`
        INSERT INTO grants (tenant_id, grant_id, principal_type, principal_id, role, workspace_id, origin,
          granted_position, granted_at)
        SELECT ${tenantId}::uuid, ${grantId}::uuid, ${principal.type}, ${principal.id}, ${role}, ${workspaceId}::uuid,
          'grant', ${position}, ${at}::timestamptz FROM guard
        ON CONFLICT DO NOTHING`);
    }
    case 'RoleRevoked':
      return guarded(sql`
        DELETE FROM grants WHERE tenant_id = ${tenantId}::uuid AND grant_id = ${event.data.grantId}::uuid AND ${applies}`);
    case 'ApiKeyIssued': {
      const { apiKeyId, role, workspaceId } = event.data;
      return guarded(sql`
        INSERT INTO grants (tenant_id, grant_id, principal_type, principal_id, role, workspace_id, origin,
          granted_position, granted_at)
        SELECT ${tenantId}::uuid, ${apiKeyGrantIdOf(apiKeyId)}::uuid, 'apiKey', ${apiKeyId}, ${roleOfApiKey(role)},
          ${workspaceId}::uuid, 'apiKey', ${position}, ${at}::timestamptz FROM guard
        ON CONFLICT DO NOTHING`);
    }
    case 'ApiKeyRevoked':
      return guarded(sql`
        DELETE FROM grants
        WHERE tenant_id = ${tenantId}::uuid AND principal_type = 'apiKey' AND principal_id = ${event.data.apiKeyId} AND ${applies}`);
    case 'WorkspaceDeleted':
      return guarded(sql`
        DELETE FROM grants
        WHERE tenant_id = ${tenantId}::uuid AND workspace_id = ${event.data.workspaceId}::uuid AND ${applies}`);
    case 'TenantDeleted':
      // Its members, groups and grants end with it; the guard row stays, so nothing comes back.
      return guarded(sql`,
        memberships AS (DELETE FROM group_members WHERE tenant_id = ${tenantId}::uuid AND ${applies} RETURNING 1),
        granted AS (DELETE FROM grants WHERE tenant_id = ${tenantId}::uuid AND ${applies} RETURNING 1),
        grouped AS (DELETE FROM member_groups WHERE tenant_id = ${tenantId}::uuid AND ${applies} RETURNING 1)
        DELETE FROM members WHERE tenant_id = ${tenantId}::uuid AND ${applies}`);
    default:
      return undefined;
  }
}

function jsonOrNull(value: object | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

/** Shifts a statement's parameter numbers past the guard's, so that the two can be joined. */
function renumber(text: string, offset: number): string {
  return text.replace(/\$(\d+)/g, (_, index: string) => `$${Number(index) + offset}`);
}

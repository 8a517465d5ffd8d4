import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import { occurredAt } from '../src/stored-events/event-metadata.js';
import { decodeTenancyEvent } from '../src/stored-events/tenancy-event.codec.js';
import { apiKeyGrantIdOf, roleOfApiKey } from '../src/tenancy/api-key-grants.js';
import type { TenancyEventType } from '../src/tenancy/tenancy.events.js';
import { uuidKey } from '../src/tenancy/uuid.js';
import type { BulkLoadTarget, StagingRow } from './projection.js';

/** The membership events that only add rows (and move the tenant's membership revision). */
export const MEMBERSHIP_ADDS: ReadonlySet<string> = new Set<TenancyEventType>([
  'MemberAdded',
  'GroupCreated',
  'GroupMemberAdded',
  'RoleGranted',
  'ApiKeyIssued',
]);

const MEMBER_COLUMNS = ['tenant_id', 'user_id', 'display_name', 'added_position', 'added_at', 'updated_at'];
const GROUP_COLUMNS = [
  'tenant_id',
  'group_id',
  'name',
  'member_count',
  'created_position',
  'created_at',
  'updated_at',
];
const GROUP_MEMBER_COLUMNS = ['tenant_id', 'group_id', 'user_id', 'added_position', 'added_at'];
const GRANT_COLUMNS = [
  'tenant_id',
  'grant_id',
  'principal_type',
  'principal_id',
  'role',
  'workspace_id',
  'origin',
  'granted_position',
  'granted_at',
];

interface Grant {
  readonly tenantId: string;
  readonly grantId: string;
  readonly principalType: string;
  readonly principalId: string;
  readonly role: string;
  readonly workspaceId: string | null;
  readonly origin: 'grant' | 'apiKey';
}

interface Added {
  readonly kind: 'member' | 'group' | 'groupMember' | 'grant';
  readonly at: string;
  /** The row's key, as the table's primary key: what an insert of it conflicts on. */
  readonly key: string;
  readonly row: StagingRow;
  readonly groupKey?: string;
  /** For a grant: its key by principal and workspace, the table's other unique key (none without a workspace). */
  readonly principalKey?: string;
}

/**
 * The membership read model's bulk form, for a rebuild: a run of events that only add members,
 * groups, memberships of groups and grants becomes those rows, copied in, plus the member counts of
 * the groups already there that the run adds to, and each tenant's membership revision.
 *
 * It gives exactly the rows of the per-event statements: an event applies only above the tenant's
 * membership revision, and an insert that the per-event statement would skip on a conflict (the
 * same member, group, membership or grant again, or a second grant of a principal on the same
 * workspace) is skipped here too, whether the row is in the table already or earlier in the run.
 */
export async function loadMembershipAdds(
  events: readonly RecordedEvent[],
  target: BulkLoadTarget,
): Promise<void> {
  const adds = events
    .filter((recorded) => MEMBERSHIP_ADDS.has(recorded.type))
    .map((recorded) => ({ recorded, event: decodeTenancyEvent(recorded) }));
  if (adds.length === 0) return;
  const revisions = await membershipRevisions(
    adds.map(({ event }) => uuidKey(event.data.tenantId)),
    target,
  );
  const moved = new Set<string>();
  const applicable: Added[] = [];
  for (const { recorded, event } of adds) {
    // Ids of uuid columns keyed as the tables compare them (one id, whatever its case in an event);
    // the text ones (users, principals) as written.
    const tenantId = uuidKey(event.data.tenantId);
    const revision = revisions.get(tenantId);
    if (revision !== undefined && recorded.revision <= revision) continue;
    revisions.set(tenantId, recorded.revision);
    moved.add(tenantId);
    const at = occurredAt(recorded);
    const position = recorded.position;
    const added = (kind: Added['kind'], key: string, row: StagingRow, extra: Partial<Added> = {}) =>
      applicable.push({ kind, at, key, row, ...extra });
    switch (event.type) {
      case 'MemberAdded': {
        const { userId, displayName } = event.data;
        const name = displayName === null ? null : JSON.stringify(displayName);
        added('member', keyOf('member', tenantId, userId), [tenantId, userId, name, position, at, at]);
        break;
      }
      case 'GroupCreated': {
        const groupId = uuidKey(event.data.groupId);
        added('group', keyOf('group', tenantId, groupId), [
          tenantId,
          groupId,
          event.data.name,
          0,
          position,
          at,
          at,
        ]);
        break;
      }
      case 'GroupMemberAdded': {
        const { userId } = event.data;
        const groupId = uuidKey(event.data.groupId);
        added(
          'groupMember',
          keyOf('groupMember', tenantId, groupId, userId),
          [tenantId, groupId, userId, position, at],
          { groupKey: keyOf('group', tenantId, groupId) },
        );
        break;
      }
      case 'RoleGranted': {
        const { principal, role, workspaceId } = event.data;
        addGrant(added, position, at, {
          tenantId,
          grantId: uuidKey(event.data.grantId),
          principalType: principal.type,
          principalId: principal.id,
          role,
          workspaceId: workspaceId === null ? null : uuidKey(workspaceId),
          origin: 'grant',
        });
        break;
      }
      case 'ApiKeyIssued': {
        const { apiKeyId, role, workspaceId } = event.data;
        addGrant(added, position, at, {
          tenantId,
          grantId: apiKeyGrantIdOf(apiKeyId),
          principalType: 'apiKey',
          principalId: apiKeyId,
          role: roleOfApiKey(role),
          workspaceId: workspaceId === null ? null : uuidKey(workspaceId),
          origin: 'apiKey',
        });
        break;
      }
      default:
        throw new Error(`${event.type} is not an event the membership bulk form applies`);
    }
  }
  const before = await rowsAlreadyThere(applicable, target);
  const inRun = new Set<string>();
  const rows = new Map<Added['kind'], StagingRow[]>();
  /** Groups created in the run: their rows, whose count and update time the run's memberships move. */
  const newGroups = new Map<string, (string | number | null)[]>();
  /** Groups already there: the memberships the run adds to each, and the time of the last. */
  const grownGroups = new Map<string, { tenantId: string; groupId: string; added: number; at: string }>();
  for (const add of applicable) {
    const conflicts =
      before.has(add.key) ||
      inRun.has(add.key) ||
      (add.principalKey !== undefined && (before.has(add.principalKey) || inRun.has(add.principalKey)));
    if (conflicts) continue;
    inRun.add(add.key);
    if (add.principalKey !== undefined) inRun.add(add.principalKey);
    // A new group's row is a copy: the run's memberships of it move its count and update time.
    const row = add.kind === 'group' ? [...add.row] : add.row;
    if (add.kind === 'group') newGroups.set(add.key, row as (string | number | null)[]);
    const list = rows.get(add.kind) ?? [];
    list.push(row);
    rows.set(add.kind, list);
    if (add.kind === 'groupMember' && add.groupKey !== undefined) {
      const created = newGroups.get(add.groupKey);
      if (created) {
        created[3] = Number(created[3]) + 1;
        created[6] = add.at;
      } else if (before.has(add.groupKey)) {
        const [tenantId, groupId] = add.row as [string, string];
        const grown = grownGroups.get(add.groupKey) ?? { tenantId, groupId, added: 0, at: add.at };
        grown.added += 1;
        grown.at = add.at;
        grownGroups.set(add.groupKey, grown);
      }
      // A membership of a group that is nowhere is inserted as the per-event statement inserts it;
      // the foreign key refuses it when the rebuild checks the constraints.
    }
  }
  await target.copy('members', MEMBER_COLUMNS, rows.get('member') ?? []);
  await target.copy('member_groups', GROUP_COLUMNS, rows.get('group') ?? []);
  await target.copy('group_members', GROUP_MEMBER_COLUMNS, rows.get('groupMember') ?? []);
  await target.copy('grants', GRANT_COLUMNS, rows.get('grant') ?? []);
  if (grownGroups.size > 0) {
    const grown = [...grownGroups.values()];
    await target.query(
      `UPDATE member_groups g SET member_count = g.member_count + d.added, updated_at = d.at
       FROM unnest($1::uuid[], $2::uuid[], $3::integer[], $4::timestamptz[]) AS d (tenant_id, group_id, added, at)
       WHERE g.tenant_id = d.tenant_id AND g.group_id = d.group_id`,
      [
        grown.map((group) => group.tenantId),
        grown.map((group) => group.groupId),
        grown.map((group) => group.added),
        grown.map((group) => group.at),
      ],
    );
  }
  await target.query(
    `INSERT INTO membership_revisions AS seen (tenant_id, revision)
     SELECT * FROM unnest($1::uuid[], $2::bigint[])
     ON CONFLICT (tenant_id) DO UPDATE SET revision = excluded.revision`,
    [[...moved], [...moved].map((tenantId) => revisions.get(tenantId))],
  );
}

function addGrant(
  added: (kind: Added['kind'], key: string, row: StagingRow, extra?: Partial<Added>) => void,
  position: string,
  at: string,
  grant: Grant,
): void {
  const { tenantId, grantId, principalType, principalId, role, workspaceId, origin } = grant;
  added(
    'grant',
    keyOf('grant', tenantId, grantId),
    [tenantId, grantId, principalType, principalId, role, workspaceId, origin, position, at],
    // No workspace, no conflict: the unique key treats nulls as distinct.
    workspaceId === null
      ? {}
      : { principalKey: keyOf('principal', tenantId, principalType, principalId, workspaceId) },
  );
}

/** Each tenant of the run with its membership revision, for those that have one. */
async function membershipRevisions(
  tenantIds: readonly string[],
  target: BulkLoadTarget,
): Promise<Map<string, number>> {
  const tenants = [...new Set(tenantIds)];
  const rows = await target.query<{ tenant_id: string; revision: string }>(
    `SELECT r.tenant_id, r.revision FROM unnest($1::uuid[]) AS a (tenant_id)
     JOIN LATERAL (SELECT x.tenant_id, x.revision FROM membership_revisions x WHERE x.tenant_id = a.tenant_id OFFSET 0) r
       ON true`,
    [tenants],
  );
  const byLowerCase = new Map(rows.map((row) => [row.tenant_id, Number(row.revision)]));
  return new Map(
    tenants.flatMap((tenantId) => {
      const revision = byLowerCase.get(tenantId.toLowerCase());
      return revision === undefined ? [] : [[tenantId, revision] as const];
    }),
  );
}

/**
 * The keys (as in `Added.key`, `groupKey` and `principalKey`) of the run's rows and groups that are
 * in the tables already, each looked up on its primary or unique key.
 */
async function rowsAlreadyThere(applicable: readonly Added[], target: BulkLoadTarget): Promise<Set<string>> {
  const found = new Set<string>();
  const lookUp = async (
    keys: readonly string[],
    types: readonly string[],
    table: string,
    columns: readonly string[],
  ) => {
    const unique = [...new Set(keys)];
    if (unique.length === 0) return;
    const parts = unique.map((key) => key.split(SEPARATOR).slice(1));
    const names = columns.map((_, index) => `k${index}`);
    const { length } = columns;
    const rows = await target.query<{ n: string }>(
      `SELECT a.n FROM unnest(${types.map((type, index) => `$${index + 1}::${type}[]`).join(', ')})
         WITH ORDINALITY AS a (${names.join(', ')}, n)
       JOIN LATERAL (
         SELECT 1 FROM ${table} x WHERE ${columns.map((column, index) => `x.${column} = a.${names[index]}`).join(' AND ')} LIMIT 1
       ) e ON true`,
      Array.from({ length }, (_, index) => parts.map((part) => part[index])),
    );
    for (const row of rows) found.add(unique[Number(row.n) - 1] as string);
  };
  const keysOf = (kind: Added['kind']) => applicable.filter((add) => add.kind === kind).map((add) => add.key);
  await lookUp(keysOf('member'), ['uuid', 'text'], 'members', ['tenant_id', 'user_id']);
  await lookUp(
    [...keysOf('group'), ...applicable.flatMap((add) => (add.groupKey === undefined ? [] : [add.groupKey]))],
    ['uuid', 'uuid'],
    'member_groups',
    ['tenant_id', 'group_id'],
  );
  await lookUp(keysOf('groupMember'), ['uuid', 'uuid', 'text'], 'group_members', [
    'tenant_id',
    'group_id',
    'user_id',
  ]);
  await lookUp(keysOf('grant'), ['uuid', 'uuid'], 'grants', ['tenant_id', 'grant_id']);
  await lookUp(
    applicable.flatMap((add) => (add.principalKey === undefined ? [] : [add.principalKey])),
    ['uuid', 'text', 'text', 'uuid'],
    'grants',
    ['tenant_id', 'principal_type', 'principal_id', 'workspace_id'],
  );
  return found;
}

/** Between the parts of a key: a character no id can hold (PostgreSQL text never holds it). */
const SEPARATOR = '\u0000';

/** A row's key: its kind, then the values of the table's key it would conflict on. */
function keyOf(kind: string, ...parts: string[]): string {
  return [kind, ...parts].join(SEPARATOR);
}

import { Injectable } from '@nestjs/common';
import { sql, type SqlStatement } from '../../database/sql-statement.js';
import type { PrincipalType, Role } from '../../tenancy/membership.events.js';
import { TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';
import { decodeCursor, encodeCursor } from '../queries/keyset-cursor.js';
import { isUserId } from '../../tenancy/user-id.js';
import { ScopedReader } from '../queries/scoped-reader.js';
import { requireTenant } from '../queries/read-model.queries.js';
import { PersonalDataVault } from '../../personal-data/personal-data.vault.js';
import {
  addNeed,
  displayNameOf,
  emptyNeeds,
  revealPersonalText,
  type PersonalDataLookup,
} from '../../personal-data/personal-data.reveal.js';
import type { PersonalText } from '../../tenancy/personal-text.js';

export interface MemberView {
  readonly tenantId: string;
  readonly userId: string;
  /** In plain text; null when none was given, or when it was erased. */
  readonly displayName: string | null;
  /** Present (true) when the member's display name was erased. */
  readonly personalDataErased?: true;
  readonly addedAt: string;
  readonly updatedAt: string;
}

export interface MemberDetailView extends MemberView {
  readonly groups: readonly { readonly groupId: string; readonly name: string }[];
}

export interface GroupView {
  readonly tenantId: string;
  readonly groupId: string;
  readonly name: string;
  readonly memberCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface GroupMemberView {
  readonly userId: string;
  readonly displayName: string | null;
  readonly personalDataErased?: true;
  readonly addedAt: string;
}

export interface GrantView {
  readonly tenantId: string;
  readonly grantId: string;
  readonly principal: { readonly type: PrincipalType; readonly id: string };
  readonly role: Role;
  readonly workspaceId: string | null;
  readonly origin: 'grant' | 'apiKey';
  readonly grantedAt: string;
}

export interface Page<Item> {
  readonly items: readonly Item[];
  readonly nextCursor: string | null;
}

export interface GrantFilter {
  readonly principalType?: PrincipalType;
  /** Grants of a principal with any of these ids (one id may be stored in two cases). */
  readonly principalIds?: readonly string[];
  readonly workspaceId?: string;
  /** A workspace-scoped caller: only grants on this workspace's subtree. */
  readonly withinSubtreeOf?: string;
}

interface MemberRow {
  tenant_id: string;
  user_id: string;
  display_name: PersonalText | null;
  personal_data_erased_at: Date | null;
  added_position: string;
  added_at: Date;
  updated_at: Date;
}

interface GroupRow {
  tenant_id: string;
  group_id: string;
  name: string;
  member_count: number;
  created_position: string;
  created_at: Date;
  updated_at: Date;
}

interface GrantRow {
  tenant_id: string;
  grant_id: string;
  principal_type: PrincipalType;
  principal_id: string;
  role: Role;
  workspace_id: string | null;
  origin: 'grant' | 'apiKey';
  granted_position: string;
  granted_at: Date;
}

/**
 * Lists of members, groups and grants from the membership read model, within the caller's tenant's
 * row-level scope, in keyset pages ordered by the log position each row was written at.
 */
@Injectable()
export class MembershipQueries {
  constructor(
    private readonly reader: ScopedReader,
    private readonly vault: PersonalDataVault,
  ) {}

  async members(tenantId: string, limit: number, cursor: string | undefined): Promise<Page<MemberView>> {
    const listing = `members ${tenantId}`;
    const after = cursor === undefined ? undefined : decodeCursor(cursor, listing, isUserId);
    const rows = await this.keysetPage<MemberRow>(
      tenantId,
      sql`SELECT * FROM members WHERE tenant_id = ${tenantId}::uuid
            AND (${after?.position ?? null}::text IS NULL
                 OR (added_position, user_id) > (${after?.position ?? null}::text, ${after?.id ?? null}::text))
          ORDER BY added_position, user_id LIMIT ${limit + 1}`,
    );
    if (rows.length === 0) await requireTenant(this.reader, tenantId);
    const lookup = await this.lookupFor(rows);
    return page(
      rows,
      limit,
      (row) => memberView(row, lookup),
      (row) => encodeCursor({ position: row.added_position, id: row.user_id }, listing),
    );
  }

  async member(tenantId: string, userId: string): Promise<MemberDetailView> {
    const [row] = await this.query<MemberRow & { groups: { groupId: string; name: string }[] }>(
      tenantId,
      sql`SELECT m.*, coalesce((
            SELECT json_agg(json_build_object('groupId', g.group_id, 'name', g.name) ORDER BY gm.added_position)
            FROM group_members gm JOIN member_groups g ON g.tenant_id = gm.tenant_id AND g.group_id = gm.group_id
            WHERE gm.tenant_id = m.tenant_id AND gm.user_id = m.user_id), '[]') AS groups
          FROM members m WHERE m.tenant_id = ${tenantId}::uuid AND m.user_id = ${userId}`,
    );
    if (row === undefined) {
      await requireTenant(this.reader, tenantId);
      throw new TenancyRuleViolation('MEMBER_NOT_FOUND', `No member ${userId}.`);
    }
    return { ...memberView(row, await this.lookupFor([row])), groups: row.groups };
  }

  async groups(tenantId: string, limit: number, cursor: string | undefined): Promise<Page<GroupView>> {
    const listing = `groups ${tenantId}`;
    const after = cursor === undefined ? undefined : decodeCursor(cursor, listing);
    const rows = await this.keysetPage<GroupRow>(
      tenantId,
      sql`SELECT * FROM member_groups WHERE tenant_id = ${tenantId}::uuid
            AND (${after?.position ?? null}::text IS NULL
                 OR (created_position, group_id) > (${after?.position ?? null}::text, ${after?.id ?? null}::uuid))
          ORDER BY created_position, group_id LIMIT ${limit + 1}`,
    );
    if (rows.length === 0) await requireTenant(this.reader, tenantId);
    return page(rows, limit, groupView, (row) =>
      encodeCursor({ position: row.created_position, id: row.group_id }, listing),
    );
  }

  async group(tenantId: string, groupId: string): Promise<GroupView> {
    const [row] = await this.query<GroupRow>(
      tenantId,
      sql`SELECT * FROM member_groups WHERE tenant_id = ${tenantId}::uuid AND group_id = ${groupId}::uuid`,
    );
    if (row === undefined) return this.missingGroup(tenantId, groupId);
    return groupView(row);
  }

  async groupMembers(
    tenantId: string,
    groupId: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<GroupMemberView>> {
    const listing = `group-members ${tenantId} ${groupId}`;
    const after = cursor === undefined ? undefined : decodeCursor(cursor, listing, isUserId);
    const rows = await this.keysetPage<{
      tenant_id: string;
      user_id: string;
      display_name: PersonalText | null;
      personal_data_erased_at: Date | null;
      added_position: string;
      added_at: Date;
    }>(
      tenantId,
      sql`SELECT gm.tenant_id, gm.user_id, m.display_name, m.personal_data_erased_at, gm.added_position, gm.added_at
          FROM group_members gm JOIN members m ON m.tenant_id = gm.tenant_id AND m.user_id = gm.user_id
          WHERE gm.tenant_id = ${tenantId}::uuid AND gm.group_id = ${groupId}::uuid
            AND (${after?.position ?? null}::text IS NULL
                 OR (gm.added_position, gm.user_id) > (${after?.position ?? null}::text, ${after?.id ?? null}::text))
          ORDER BY gm.added_position, gm.user_id LIMIT ${limit + 1}`,
    );
    if (rows.length === 0) await this.group(tenantId, groupId);
    const lookup = await this.lookupFor(rows);
    return page(
      rows,
      limit,
      (row) => ({ userId: row.user_id, ...shownName(row, lookup), addedAt: row.added_at.toISOString() }),
      (row) => encodeCursor({ position: row.added_position, id: row.user_id }, listing),
    );
  }

  /** One member of a group; the group, then the member, then the membership missing: 404 each. */
  async groupMember(tenantId: string, groupId: string, userId: string): Promise<GroupMemberView> {
    // One statement: the group's row, with the member's and the membership's where they exist.
    // The member's columns are null where no member has the id (a LEFT JOIN).
    const [row] = await this.query<
      { [Column in keyof MemberRow]: MemberRow[Column] | null } & {
        in_group_at: Date | null;
      }
    >(
      tenantId,
      sql`SELECT m.*, gm.added_at AS in_group_at
          FROM member_groups g
          LEFT JOIN members m ON m.tenant_id = g.tenant_id AND m.user_id = ${userId}
          LEFT JOIN group_members gm
            ON gm.tenant_id = g.tenant_id AND gm.group_id = g.group_id AND gm.user_id = ${userId}
          WHERE g.tenant_id = ${tenantId}::uuid AND g.group_id = ${groupId}::uuid`,
    );
    if (row === undefined) return this.missingGroup(tenantId, groupId);
    if (row.user_id === null) {
      throw new TenancyRuleViolation('MEMBER_NOT_FOUND', `No member ${userId}.`);
    }
    if (row.in_group_at === null) {
      throw new TenancyRuleViolation('NOT_IN_GROUP', `Member ${userId} is not in group ${groupId}.`);
    }
    const member = row as MemberRow & { in_group_at: Date };
    const lookup = await this.lookupFor([member]);
    return {
      userId: member.user_id,
      ...shownName(member, lookup),
      addedAt: member.in_group_at.toISOString(),
    };
  }

  async grants(
    tenantId: string,
    filter: GrantFilter,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<GrantView>> {
    const listing = `grants ${tenantId} ${JSON.stringify(filter)}`;
    const after = cursor === undefined ? undefined : decodeCursor(cursor, listing);
    const subtree = filter.withinSubtreeOf ?? null;
    // Unfiltered, the list's order is its index's; a filter by principal or workspace has an index
    // of its own, whose few rows the planner may sort.
    const unfiltered =
      filter.principalType === undefined &&
      filter.principalIds === undefined &&
      filter.workspaceId === undefined &&
      subtree === null;
    const statement = sql`SELECT * FROM grants g WHERE g.tenant_id = ${tenantId}::uuid
            AND (${filter.principalType ?? null}::text IS NULL OR g.principal_type = ${filter.principalType ?? null})
            AND (${filter.principalIds ?? null}::text[] IS NULL OR g.principal_id = ANY(${filter.principalIds ?? null}::text[]))
            AND (${filter.workspaceId ?? null}::uuid IS NULL OR g.workspace_id = ${filter.workspaceId ?? null}::uuid)
            AND ${onSubtree(tenantId, subtree)}
            AND (${after?.position ?? null}::text IS NULL
                 OR (g.granted_position, g.grant_id) > (${after?.position ?? null}::text, ${after?.id ?? null}::uuid))
          ORDER BY g.granted_position, g.grant_id LIMIT ${limit + 1}`;
    const rows = unfiltered
      ? await this.keysetPage<GrantRow>(tenantId, statement)
      : await this.query<GrantRow>(tenantId, statement);
    // No rows: say so with 404 when the tenant, or the workspace filtered on, is not there.
    if (rows.length === 0) await requireTenant(this.reader, tenantId, filter.workspaceId);
    return page(rows, limit, grantView, (row) =>
      encodeCursor({ position: row.granted_position, id: row.grant_id }, listing),
    );
  }

  /** One active grant (a workspace-scoped caller: on its subtree only), as the list shows it. */
  async grant(tenantId: string, grantId: string, withinSubtreeOf?: string): Promise<GrantView> {
    const subtree = withinSubtreeOf ?? null;
    const [row] = await this.query<GrantRow>(
      tenantId,
      sql`SELECT * FROM grants g WHERE g.tenant_id = ${tenantId}::uuid AND g.grant_id = ${grantId}::uuid
            AND ${onSubtree(tenantId, subtree)}`,
    );
    if (row === undefined) {
      await requireTenant(this.reader, tenantId);
      throw new TenancyRuleViolation('GRANT_NOT_FOUND', `No grant ${grantId}.`);
    }
    return grantView(row);
  }

  /** No such group: the tenant's 404 when it is the tenant that is missing, else the group's. */
  private async missingGroup(tenantId: string, groupId: string): Promise<never> {
    await requireTenant(this.reader, tenantId);
    throw new TenancyRuleViolation('GROUP_NOT_FOUND', `No group ${groupId}.`);
  }

  /** The keys and erasures the page's display names need: one query. */
  private lookupFor(rows: readonly NamedRow[]): Promise<PersonalDataLookup> {
    const needs = emptyNeeds();
    for (const row of rows)
      addNeed(needs, { tenantId: row.tenant_id, userId: row.user_id }, row.display_name);
    return this.vault.lookup(needs);
  }

  private query<Row>(tenantId: string, statement: SqlStatement): Promise<Row[]> {
    return this.reader.query<Row>({ kind: 'tenant', tenantId }, statement);
  }

  /** A keyset page in the order of an index that serves its filter (ScopedReader.pageInIndexOrder). */
  private keysetPage<Row>(tenantId: string, statement: SqlStatement): Promise<Row[]> {
    return this.reader.pageInIndexOrder<Row>({ kind: 'tenant', tenantId }, statement);
  }
}

type NamedRow = Pick<MemberRow, 'tenant_id' | 'user_id' | 'display_name' | 'personal_data_erased_at'>;

/** The display name in plain text, or null, saying so when it was erased. */
function shownName(
  row: NamedRow,
  lookup: PersonalDataLookup,
): { displayName: string | null; personalDataErased?: true } {
  const revealed = revealPersonalText(
    row.display_name,
    { tenantId: row.tenant_id, userId: row.user_id },
    lookup,
  );
  const { displayName, erased } = displayNameOf(revealed);
  return erased || (revealed === null && row.personal_data_erased_at !== null)
    ? { displayName, personalDataErased: true }
    : { displayName };
}

function memberView(row: MemberRow, lookup: PersonalDataLookup): MemberView {
  return {
    tenantId: row.tenant_id,
    userId: row.user_id,
    ...shownName(row, lookup),
    addedAt: row.added_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function groupView(row: GroupRow): GroupView {
  return {
    tenantId: row.tenant_id,
    groupId: row.group_id,
    name: row.name,
    memberCount: row.member_count,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function grantView(row: GrantRow): GrantView {
  return {
    tenantId: row.tenant_id,
    grantId: row.grant_id,
    principal: { type: row.principal_type, id: row.principal_id },
    role: row.role,
    workspaceId: row.workspace_id,
    origin: row.origin,
    grantedAt: row.granted_at.toISOString(),
  };
}

function page<Row, Item>(
  rows: readonly Row[],
  limit: number,
  view: (row: Row) => Item,
  cursorOf: (row: Row) => string,
): Page<Item> {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown[shown.length - 1];
  return { items: shown.map(view), nextCursor: more && last !== undefined ? cursorOf(last) : null };
}

/**
 * The grants (alias `g`) a workspace-scoped caller sees: those on its workspace or below it. Null:
 * a tenant-wide caller, who sees them all.
 */
function onSubtree(tenantId: string, subtree: string | null): SqlStatement {
  return sql`(${subtree}::uuid IS NULL OR g.workspace_id IN (
                SELECT w.workspace_id FROM workspaces w
                WHERE w.tenant_id = ${tenantId}::uuid AND w.path @> ARRAY[${subtree}::uuid]))`;
}

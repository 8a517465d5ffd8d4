import { Injectable } from '@nestjs/common';
import { TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';
import { decodeCursor, encodeCursor } from './keyset-cursor.js';
import { ScopedReader } from './scoped-reader.js';
import { sql, sqlText } from '../../database/sql-statement.js';

export interface DeletionProgress {
  readonly deleted: number;
  readonly total: number;
}

export interface TenantView {
  readonly tenantId: string;
  readonly name: string;
  readonly status: 'active' | 'suspended' | 'deleting' | 'deleted';
  /** While suspended: why, and since when. */
  readonly suspension?: { readonly reason: string; readonly since: string };
  readonly rootWorkspaceId: string | null;
  readonly workspaceCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly revision: number;
  readonly deletion?: DeletionProgress;
}

export interface WorkspaceView {
  readonly workspaceId: string;
  readonly tenantId: string;
  readonly parentWorkspaceId: string | null;
  readonly name: string;
  readonly isRoot: boolean;
  readonly depth: number;
  readonly path: readonly string[];
  readonly childCount: number;
  readonly status: 'live' | 'deleting';
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The tenant stream's revision: what If-Match on a change to this workspace compares with. */
  readonly revision: number;
  readonly deletion?: DeletionProgress;
}

export interface Page<Item> {
  readonly items: readonly Item[];
  readonly nextCursor: string | null;
}

interface TenantRow {
  tenant_id: string;
  name: string;
  status: 'active' | 'suspended' | 'deleting' | 'deleted';
  suspension_reason: string | null;
  suspended_at: Date | null;
  root_workspace_id: string | null;
  workspace_count: number;
  deletion_total: number | null;
  deletion_done: number | null;
  revision: number;
  created_position: string;
  created_at: Date;
  updated_at: Date;
}

interface WorkspaceRow {
  tenant_id: string;
  workspace_id: string;
  parent_workspace_id: string | null;
  name: string;
  is_root: boolean;
  depth: number;
  /** The ids from the root down, comma-separated. */
  path: string;
  child_count: number;
  status: 'live' | 'deleting';
  deletion_total: number | null;
  deletion_done: number | null;
  created_position: string;
  created_at_ms: number;
  updated_at_ms: number;
  tenant_revision: number;
}

/**
 * A page holds up to a hundred workspaces, so their columns come in the forms cheapest to read:
 * the path as one comma-separated text and the times as milliseconds (all a Date holds). As an
 * array and as timestamps, node-postgres's parsing of them took a fifth of the service's time for
 * a page.
 */
const WORKSPACE_COLUMNS = `w.tenant_id, w.workspace_id, w.parent_workspace_id, w.name, w.is_root, w.depth,
  array_to_string(w.path, ',') AS path, w.child_count, w.status, w.deletion_total, w.deletion_done, w.created_position,
  floor(extract(epoch FROM w.created_at) * 1000)::float8 AS created_at_ms,
  floor(extract(epoch FROM w.updated_at) * 1000)::float8 AS updated_at_ms, t.revision AS tenant_revision`;

/** Reads of the tenant and workspace read models, always within one tenant's row-level scope. */
@Injectable()
export class ReadModelQueries {
  constructor(private readonly reader: ScopedReader) {}

  /** `includeDeleted`: a deleted tenant reads as status 'deleted' (the status resource of its deletion). */
  async tenant(tenantId: string, includeDeleted = false): Promise<TenantView> {
    const [row] = await this.reader.query<TenantRow>(
      { kind: 'tenant', tenantId },
      sql`SELECT * FROM tenants WHERE tenant_id = ${tenantId}::uuid AND (${includeDeleted}::boolean OR status <> 'deleted')`,
    );
    if (!row) throw new TenancyRuleViolation('TENANT_NOT_FOUND', `No tenant ${tenantId}.`);
    return tenantView(row);
  }

  async tenants(limit: number, cursor: string | undefined): Promise<Page<TenantView>> {
    const listing = 'tenants';
    const after = cursor ? decodeCursor(cursor, listing) : undefined;
    const rows = await this.reader.pageInIndexOrder<TenantRow>(
      { kind: 'all-tenants' },
      sql`SELECT * FROM tenants
          WHERE status <> 'deleted'
            AND (${after?.position ?? null}::text IS NULL
                 OR (created_position, tenant_id) > (${after?.position ?? null}::text, ${after?.id ?? null}::uuid))
          ORDER BY created_position, tenant_id LIMIT ${limit + 1}`,
    );
    return page(rows, limit, listing, tenantView, (row) => ({
      position: row.created_position,
      id: row.tenant_id,
    }));
  }

  async workspaces(
    tenantId: string,
    parentWorkspaceId: string | undefined,
    limit: number,
    cursor: string | undefined,
    /** Only this workspace and its descendants (a workspace-scoped caller's view). */
    withinSubtreeOf?: string,
  ): Promise<Page<WorkspaceView>> {
    const parent = parentWorkspaceId ?? null;
    const subtree = withinSubtreeOf ?? null;
    const listing = `workspaces ${tenantId} ${parent ?? ''} ${subtree ?? ''}`;
    const after = cursor ? decodeCursor(cursor, listing) : undefined;
    // The page first, then its tenant's row once: joined before the limit, the tenant was looked
    // up again for every workspace the page's plan went through.
    const rows = await this.reader.pageInIndexOrder<WorkspaceRow>(
      { kind: 'tenant', tenantId },
      sql`SELECT ${sqlText(WORKSPACE_COLUMNS)}
          FROM tenants t CROSS JOIN LATERAL (
            SELECT * FROM workspaces w
            WHERE w.tenant_id = ${tenantId}::uuid
              AND (${parent}::uuid IS NULL OR w.parent_workspace_id = ${parent}::uuid)
              AND (${after?.position ?? null}::text IS NULL
                   OR (w.created_position, w.workspace_id) > (${after?.position ?? null}::text, ${after?.id ?? null}::uuid))
              AND (${subtree}::uuid IS NULL OR w.path @> ARRAY[${subtree}::uuid])
            ORDER BY w.created_position, w.workspace_id LIMIT ${limit + 1}) w
          WHERE t.tenant_id = ${tenantId}::uuid AND t.status <> 'deleted'
          ORDER BY w.created_position, w.workspace_id`,
    );
    // An empty page needs telling apart from a missing tenant or parent; only then is it worth a
    // second look (a live tenant always has its root, so this is rare).
    if (rows.length === 0) await requireTenant(this.reader, tenantId, parentWorkspaceId);
    return page(rows, limit, listing, workspaceView, (row) => ({
      position: row.created_position,
      id: row.workspace_id,
    }));
  }

  async workspace(tenantId: string, workspaceId: string): Promise<WorkspaceView> {
    const [row] = await this.reader.query<WorkspaceRow>(
      { kind: 'tenant', tenantId },
      sql`SELECT ${sqlText(WORKSPACE_COLUMNS)} FROM workspaces w JOIN tenants t ON t.tenant_id = w.tenant_id
          WHERE w.tenant_id = ${tenantId}::uuid AND w.workspace_id = ${workspaceId}::uuid AND t.status <> 'deleted'`,
    );
    if (!row) throw new TenancyRuleViolation('WORKSPACE_NOT_FOUND', `No workspace ${workspaceId}.`);
    return workspaceView(row);
  }
}

function tenantView(row: TenantRow): TenantView {
  return {
    tenantId: row.tenant_id,
    name: row.name,
    status: row.status,
    rootWorkspaceId: row.root_workspace_id,
    workspaceCount: row.workspace_count,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    revision: row.revision,
    ...(row.status === 'suspended'
      ? {
          suspension: {
            reason: row.suspension_reason ?? '',
            since: (row.suspended_at ?? row.updated_at).toISOString(),
          },
        }
      : {}),
    ...(row.status === 'deleting'
      ? { deletion: { deleted: row.deletion_done ?? 0, total: row.deletion_total ?? 0 } }
      : {}),
  };
}

function workspaceView(row: WorkspaceRow): WorkspaceView {
  return {
    workspaceId: row.workspace_id,
    tenantId: row.tenant_id,
    parentWorkspaceId: row.parent_workspace_id,
    name: row.name,
    isRoot: row.is_root,
    depth: row.depth,
    path: row.path.split(','),
    childCount: row.child_count,
    status: row.status,
    createdAt: new Date(row.created_at_ms).toISOString(),
    updatedAt: new Date(row.updated_at_ms).toISOString(),
    revision: row.tenant_revision,
    ...(row.status === 'deleting'
      ? { deletion: { deleted: row.deletion_done ?? 0, total: row.deletion_total ?? 0 } }
      : {}),
  };
}

function page<Row, Item>(
  rows: readonly Row[],
  limit: number,
  listing: string,
  view: (row: Row) => Item,
  keyOf: (row: Row) => { position: string; id: string },
): Page<Item> {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown[shown.length - 1];
  return { items: shown.map(view), nextCursor: more && last ? encodeCursor(keyOf(last), listing) : null };
}

/**
 * Throws TENANT_NOT_FOUND unless the tenant is in the read models and not deleted, and
 * WORKSPACE_NOT_FOUND unless the workspace, when one is named, is one of its workspaces: what an
 * empty page says when its tenant, or the workspace it is filtered on, is not there. One query.
 */
export async function requireTenant(
  reader: ScopedReader,
  tenantId: string,
  workspaceId?: string,
): Promise<void> {
  const [found] = await reader.query<{ tenant: boolean; workspace: boolean }>(
    { kind: 'tenant', tenantId },
    sql`SELECT EXISTS (SELECT 1 FROM tenants WHERE tenant_id = ${tenantId}::uuid AND status <> 'deleted') AS tenant,
               EXISTS (SELECT 1 FROM workspaces WHERE tenant_id = ${tenantId}::uuid
                         AND workspace_id = ${workspaceId ?? null}::uuid) AS workspace`,
  );
  if (!found?.tenant) throw new TenancyRuleViolation('TENANT_NOT_FOUND', `No tenant ${tenantId}.`);
  if (workspaceId !== undefined && !found.workspace) {
    throw new TenancyRuleViolation('WORKSPACE_NOT_FOUND', `No workspace ${workspaceId}.`);
  }
}

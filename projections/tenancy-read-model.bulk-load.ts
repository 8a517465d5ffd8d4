import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import { occurredAt } from '../src/stored-events/event-metadata.js';
import { decodeTenancyEvent } from '../src/stored-events/tenancy-event.codec.js';
import type { TenancyEvent } from '../src/tenancy/tenancy.events.js';
import { uuidKey } from '../src/tenancy/uuid.js';
import type { BulkLoadForm, BulkLoadTarget, StagingRow } from './projection.js';
import { ADDS_ONLY, WorkspaceMap } from './tenancy-read-model.effects.js';

const WORKSPACE_COLUMNS = [
  'tenant_id',
  'workspace_id',
  'parent_workspace_id',
  'name',
  'is_root',
  'depth',
  'path',
  'child_count',
  'status',
  'revision',
  'created_position',
  'created_at',
  'updated_at',
] as const;

const TENANT_COLUMNS = [
  'tenant_id',
  'name',
  'status',
  'root_workspace_id',
  'workspace_count',
  'revision',
  'created_position',
  'created_at',
  'updated_at',
] as const;

interface TenantBefore {
  readonly tenant_id: string;
  readonly revision: string;
}

interface TenantChange {
  readonly tenantId: string;
  /** Events of the tenant at or below this revision are applied already (the guard). */
  readonly applied: number;
  readonly exists: boolean;
  created?: { readonly name: string; readonly position: string; readonly at: string };
  revision?: number;
  at?: string;
  added: number;
  rootId?: string;
}

/** A parent outside the run, with the children the run adds to it. */
interface Anchor {
  readonly tenantId: string;
  readonly workspaceId: string;
  readonly firstChild: string;
  children: number;
  path?: readonly string[];
}

interface CreatedWorkspace {
  readonly tenantId: string;
  readonly workspaceId: string;
  readonly parentId: string | null;
  readonly name: string;
  readonly revision: number;
  readonly position: string;
  readonly at: string;
  children: number;
  path?: readonly string[];
}

/**
 * The tenancy read model's bulk form, for a rebuild: a run of events that only add rows becomes
 * the final rows of the workspaces and tenants it creates, worked out here and copied in, plus two
 * updates for the rows it touches that are already there (the parents it adds children to, the
 * tenants whose count and revision move).
 *
 * It gives exactly the rows of the set-based statement, the guard included: a tenant's events
 * apply only above the revision its row has, or from its TenantCreated on for a tenant without a
 * row. A parent neither in the run nor in the table fails the run, as it fails the statement.
 */
export const tenancyBulkLoad: BulkLoadForm = {
  handles: (event) => ADDS_ONLY.has(event.type),
  async load(events, target) {
    const decoded = events.map((recorded) => ({ recorded, event: decodeTenancyEvent(recorded) }));
    const tenants = await tenantGuards(decoded, target);
    const created = new WorkspaceMap<CreatedWorkspace>();
    const order: CreatedWorkspace[] = [];
    /** Parents outside the run, with the children the run adds to each. */
    const anchors = new WorkspaceMap<Anchor>();
    for (const { recorded, event } of decoded) {
      const tenant = tenants.get(uuidKey(event.data.tenantId));
      if (!tenant || recorded.revision <= tenant.applied) continue;
      const at = occurredAt(recorded);
      tenant.revision = recorded.revision;
      tenant.at = at;
      if (event.type === 'TenantCreated') {
        tenant.created ??= { name: event.data.name, position: recorded.position, at };
      } else if (event.type === 'WorkspaceCreated') {
        const { tenantId, workspaceId, parentWorkspaceId, name } = event.data;
        const workspace: CreatedWorkspace = {
          tenantId,
          workspaceId,
          parentId: parentWorkspaceId,
          name,
          revision: recorded.revision,
          position: recorded.position,
          at,
          children: 0,
        };
        created.set(tenantId, workspaceId, workspace);
        order.push(workspace);
        tenant.added += 1;
        if (parentWorkspaceId === null) {
          tenant.rootId = workspaceId;
        } else {
          const parent = created.get(tenantId, parentWorkspaceId) ?? anchors.get(tenantId, parentWorkspaceId);
          if (parent) parent.children += 1;
          else
            anchors.set(tenantId, parentWorkspaceId, {
              tenantId,
              workspaceId: parentWorkspaceId,
              firstChild: workspaceId,
              children: 1,
            });
        }
      }
    }
    await countChildrenOfAnchors(anchors, target);
    const workspaceRows = order.map((workspace): StagingRow => {
      const { tenantId, parentId } = workspace;
      const parentPath =
        parentId === null
          ? []
          : (created.get(tenantId, parentId)?.path ?? anchors.get(tenantId, parentId)?.path ?? []);
      const path = [...parentPath, workspace.workspaceId];
      workspace.path = path;
      return [
        workspace.tenantId,
        workspace.workspaceId,
        workspace.parentId,
        workspace.name,
        workspace.parentId === null,
        path.length - 1,
        path,
        workspace.children,
        'live',
        workspace.revision,
        workspace.position,
        workspace.at,
        workspace.at,
      ];
    });
    const newTenants: StagingRow[] = [];
    const movedTenants: TenantChange[] = [];
    for (const [tenantId, tenant] of tenants) {
      if (tenant.revision === undefined) continue;
      if (tenant.exists) {
        movedTenants.push(tenant);
      } else if (tenant.created) {
        newTenants.push([
          tenantId,
          tenant.created.name,
          'active',
          tenant.rootId ?? null,
          tenant.added,
          tenant.revision,
          tenant.created.position,
          tenant.created.at,
          tenant.at ?? tenant.created.at,
        ]);
      }
    }
    await target.copy('tenants', TENANT_COLUMNS, newTenants);
    await target.copy('workspaces', WORKSPACE_COLUMNS, workspaceRows);
    if (movedTenants.length > 0) {
      await target.query(
        `UPDATE tenants t SET revision = d.revision, updated_at = d.updated_at,
           workspace_count = t.workspace_count + d.added, root_workspace_id = coalesce(d.root_id, t.root_workspace_id)
         FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[], $4::integer[], $5::uuid[])
           AS d (tenant_id, revision, updated_at, added, root_id)
         WHERE t.tenant_id = d.tenant_id`,
        [
          movedTenants.map((tenant) => tenant.tenantId),
          movedTenants.map((tenant) => tenant.revision),
          movedTenants.map((tenant) => tenant.at),
          movedTenants.map((tenant) => tenant.added),
          movedTenants.map((tenant) => tenant.rootId ?? null),
        ],
      );
    }
  },
};

/**
 * Each tenant of the run with the revision its events must be above: its row's, or just below its
 * TenantCreated in the run for a tenant without a row. A tenant with neither gets none of its events.
 */
async function tenantGuards(
  decoded: readonly { recorded: RecordedEvent; event: TenancyEvent }[],
  target: BulkLoadTarget,
): Promise<Map<string, TenantChange>> {
  const createdAt = new Map<string, number>();
  for (const { recorded, event } of decoded) {
    // Keyed as the tenants table compares them: one tenant, whatever the case of its id in an event.
    const tenantId = uuidKey(event.data.tenantId);
    if (!createdAt.has(tenantId)) createdAt.set(tenantId, Number.POSITIVE_INFINITY);
    if (event.type === 'TenantCreated') {
      createdAt.set(tenantId, Math.min(createdAt.get(tenantId) as number, recorded.revision));
    }
  }
  const rows = await target.query<TenantBefore>(
    `SELECT t.tenant_id, t.revision FROM unnest($1::uuid[]) AS a (tenant_id)
     JOIN LATERAL (SELECT x.tenant_id, x.revision FROM tenants x WHERE x.tenant_id = a.tenant_id OFFSET 0) t ON true`,
    [[...createdAt.keys()]],
  );
  const before = new Map(rows.map((row) => [row.tenant_id, Number(row.revision)]));
  return new Map(
    [...createdAt].map(([tenantId, created]) => {
      const revision = before.get(tenantId);
      return [
        tenantId,
        {
          tenantId,
          applied: revision ?? (created === Number.POSITIVE_INFINITY ? created : created - 1),
          exists: revision !== undefined,
          added: 0,
        },
      ];
    }),
  );
}

/**
 * Adds the run's children to the parents already in the table, and takes their paths, in one
 * statement; a parent that is not there fails the run, as it fails the per-event statement.
 */
async function countChildrenOfAnchors(anchors: WorkspaceMap<Anchor>, target: BulkLoadTarget): Promise<void> {
  if (anchors.size === 0) return;
  const entries = [...anchors.values()];
  const rows = await target.query<{ tenant_id: string; workspace_id: string; path: string }>(
    `UPDATE workspaces w SET child_count = w.child_count + d.children
     FROM unnest($1::uuid[], $2::uuid[], $3::integer[]) AS d (tenant_id, workspace_id, children)
     WHERE w.tenant_id = d.tenant_id AND w.workspace_id = d.workspace_id
     RETURNING w.tenant_id, w.workspace_id, w.path::text AS path`,
    [
      entries.map((anchor) => anchor.tenantId),
      entries.map((anchor) => anchor.workspaceId),
      entries.map((anchor) => anchor.children),
    ],
  );
  for (const row of rows) {
    const anchor = anchors.get(row.tenant_id, row.workspace_id);
    if (anchor) anchor.path = row.path.slice(1, -1).split(',');
  }
  const missing = entries.find((anchor) => anchor.path === undefined);
  if (missing) {
    const { workspaceId, firstChild } = missing;
    throw new Error(
      `read model: WorkspaceCreated ${firstChild}: parent ${workspaceId} is not in the read model`,
    );
  }
}

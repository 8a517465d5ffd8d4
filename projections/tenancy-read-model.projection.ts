import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import { occurredAt } from '../src/stored-events/event-metadata.js';
import { decodeTenancyEvent } from '../src/stored-events/tenancy-event.codec.js';
import { TENANT_STREAM_PREFIX } from '../src/tenancy/tenant-stream.js';
import type { TenancyEvent } from '../src/tenancy/tenancy.events.js';
import type { Projection, SetBasedProjection, StagingRow } from './projection.js';
import { tenancyBulkLoad } from './tenancy-read-model.bulk-load.js';
import { APPLIED_ALONE, movesOnlyRevision, WorkspaceMap } from './tenancy-read-model.effects.js';
import { sql, type SqlStatement } from '../src/database/sql-statement.js';

/**
 * The set-based form of the per-event statements below, for a whole batch: each event becomes one
 * staged row, and one statement (its steps as CTEs) applies them all.
 *
 * Paths are worked out here, in the process: a workspace created under one created earlier in the
 * same batch gets the path from its nearest ancestor that is not (its anchor) down to itself, and
 * the SQL only prefixes the anchor's stored path. The rest is SQL over the staged rows:
 *
 *  - the guard: a tenant's events apply only above the revision its row has (a tenant without a
 *    row from its TenantCreated on), so a batch delivered again changes nothing;
 *  - the full path of every created and deleted workspace, and the size of each subtree whose
 *    deletion starts as the read model held it before the batch;
 *  - what the per-event statements refuse (a missing parent, renamed or deleted workspace, a parent
 *    deleted before its child) fails the statement;
 *  - one summary per workspace the batch touches (last name, last revision, children added and
 *    removed, descendants deleted before and after its deletion started), then one INSERT of the
 *    created workspaces with their final values, one UPDATE of the existing ones, one DELETE, and
 *    the tenants' rows likewise. Insert, update and delete touch disjoint rows, as one statement
 *    requires.
 *
 * Sequence numbers (`seq`, the event's place in the batch) stand for "before" and "after" wherever
 * the per-event form depends on the order of events.
 *
 * Rows of the read model are looked up one by one on their primary keys (LATERAL ... OFFSET 0),
 * never joined wholesale: a join the planner hashes reads the whole table for every batch, and a
 * rebuild then slows down as the tables it fills grow.
 */
const tenancySetBased: SetBasedProjection = {
  stagingColumns: [
    ['seq', 'integer'],
    ['position', 'text'],
    ['tenant_id', 'uuid'],
    ['revision', 'bigint'],
    ['type', 'text'],
    ['workspace_id', 'uuid'],
    ['parent_id', 'uuid'],
    ['name', 'text'],
    ['at', 'timestamptz'],
    ['anchor_id', 'uuid'],
    ['path_tail', 'uuid[]'],
  ],
  stage: stageTenancyEvents,
  appliesAlone: (event) => APPLIED_ALONE.has(event.type),
  applySql: (staged) => `
    WITH staged AS (${staged}),
    guard AS (
      SELECT c.tenant_id, t.tenant_id IS NULL AS new_tenant,
        coalesce(t.revision, c.created_revision - 1, 9223372036854775807) AS applied
      FROM (
        SELECT tenant_id, min(revision) FILTER (WHERE type = 'TenantCreated') AS created_revision
        FROM staged GROUP BY tenant_id
      ) c
      LEFT JOIN LATERAL (SELECT x.tenant_id, x.revision FROM tenants x WHERE x.tenant_id = c.tenant_id OFFSET 0) t ON true
    ),
    applicable AS (
      SELECT s.* FROM staged s JOIN guard g ON g.tenant_id = s.tenant_id WHERE s.revision > g.applied
    ),
    created AS (
      SELECT c.seq, c.tenant_id, c.workspace_id, coalesce(a.path, '{}') || c.path_tail AS path,
        c.anchor_id IS NULL OR a.workspace_id IS NOT NULL AS anchored
      FROM applicable c
      -- Looked up row by row on the primary key, and only for the few creates anchored outside the
      -- batch ("OFFSET 0" keeps the planner from turning it into a join that hashes every workspace).
      LEFT JOIN LATERAL (
        SELECT x.workspace_id, x.path FROM workspaces x
        WHERE c.anchor_id IS NOT NULL AND x.tenant_id = c.tenant_id AND x.workspace_id = c.anchor_id OFFSET 0
      ) a ON true
      WHERE c.type = 'WorkspaceCreated'
    ),
    b AS (
      SELECT e.*,
        CASE e.type WHEN 'WorkspaceCreated' THEN cr.path WHEN 'WorkspaceDeleted' THEN coalesce(w.path, cd.path) END AS path,
        CASE WHEN e.type = 'WorkspaceDeletionStarted' THEN
          (SELECT count(*) FROM workspaces s WHERE s.tenant_id = e.tenant_id AND s.path @> ARRAY[e.workspace_id])
        END AS subtree_before,
        w.workspace_id IS NOT NULL OR cd.seq IS NOT NULL AS known
      FROM applicable e
      LEFT JOIN created cr ON cr.seq = e.seq
      LEFT JOIN LATERAL (
        SELECT x.workspace_id, x.path FROM workspaces x
        WHERE e.type IN ('WorkspaceDeleted', 'WorkspaceRenamed') AND x.tenant_id = e.tenant_id
          AND x.workspace_id = e.workspace_id OFFSET 0
      ) w ON true
      -- Only renames and deletions look among the batch's creates (a lateral subquery, so that the
      -- type is a one-time filter). As a join, the planner looped over every create for every
      -- event: equality on a CTE column, which has no statistics, is estimated at one row in 200,
      -- so it took the creates for one row. That was 40 ms of a 500-event batch of creates.
      LEFT JOIN LATERAL (
        SELECT cd.seq, cd.path FROM created cd
        WHERE e.type IN ('WorkspaceDeleted', 'WorkspaceRenamed') AND cd.tenant_id = e.tenant_id
          AND cd.workspace_id = e.workspace_id AND cd.seq < e.seq OFFSET 0
      ) cd ON true
    ),
    refused AS (
      SELECT rm_assert(false, problem) FROM (
        SELECT format('WorkspaceCreated %s: parent %s is not in the read model', c.workspace_id, a.anchor_id) AS problem
        FROM created c JOIN applicable a ON a.seq = c.seq WHERE NOT c.anchored
        UNION ALL
        SELECT format('%s %s: no such workspace in the read model', e.type, e.workspace_id)
        FROM b e WHERE e.type IN ('WorkspaceDeleted', 'WorkspaceRenamed') AND NOT e.known
        UNION ALL
        -- A deletion followed by its child's, found by grouping each deletion with its parent's
        -- (a join of the deletions with each other was looped over: 74 of the 121 ms of a cascade's
        -- 500-deletion batch).
        SELECT format('WorkspaceDeleted %s: its child %s is still in the read model', k.workspace_id, k.child)
        FROM (
          SELECT tenant_id, workspace_id,
            min(seq) FILTER (WHERE child IS NULL) AS deleted_seq,
            max(seq) FILTER (WHERE child IS NOT NULL) AS child_seq,
            (array_agg(child ORDER BY seq DESC) FILTER (WHERE child IS NOT NULL))[1] AS child
          FROM (
            SELECT tenant_id, workspace_id, seq, NULL::uuid AS child FROM b WHERE type = 'WorkspaceDeleted'
            UNION ALL
            SELECT tenant_id, path[cardinality(path) - 1], seq, workspace_id FROM b
            WHERE type = 'WorkspaceDeleted' AND cardinality(path) > 1
          ) deletions
          GROUP BY tenant_id, workspace_id
        ) k
        WHERE k.child_seq > k.deleted_seq
        LIMIT 1
      ) problems
    ),
    contributions AS (
      SELECT tenant_id, workspace_id, seq,
        CASE type WHEN 'WorkspaceCreated' THEN 'created' WHEN 'WorkspaceRenamed' THEN 'renamed' ELSE 'ds' END AS kind
      FROM b WHERE type IN ('WorkspaceCreated', 'WorkspaceRenamed', 'WorkspaceDeletionStarted')
      UNION ALL
      SELECT tenant_id, parent_id, seq, 'child+' FROM b WHERE type = 'WorkspaceCreated' AND parent_id IS NOT NULL
      UNION ALL
      SELECT tenant_id, path[cardinality(path) - 1], seq, 'child-' FROM b
      WHERE type = 'WorkspaceDeleted' AND cardinality(path) > 1
      UNION ALL
      SELECT d.tenant_id, a.id, d.seq, CASE WHEN a.id = d.workspace_id THEN 'gone-self' ELSE 'gone-below' END
      FROM b d CROSS JOIN LATERAL unnest(d.path) AS a (id) WHERE d.type = 'WorkspaceDeleted'
      UNION ALL
      -- The few deletions started are the outer side, each looking at the batch's creates once
      -- (the same misestimate made the creates the outer side, each scanning the whole batch).
      SELECT c.tenant_id, s.workspace_id, c.seq, 'born'
      FROM b s
      CROSS JOIN LATERAL (
        SELECT c.tenant_id, c.seq FROM b c
        WHERE c.type = 'WorkspaceCreated' AND c.tenant_id = s.tenant_id AND c.path @> ARRAY[s.workspace_id] OFFSET 0
      ) c
      WHERE s.type = 'WorkspaceDeletionStarted'
    ),
    summary AS (
      SELECT tenant_id, workspace_id,
        max(seq) FILTER (WHERE kind = 'created') AS created_seq,
        max(seq) FILTER (WHERE kind IN ('created', 'renamed')) AS named_seq,
        max(seq) FILTER (WHERE kind IN ('created', 'renamed', 'ds')) AS touched_seq,
        max(ds_seq) AS ds_seq,
        bool_or(kind = 'gone-self') AS deleted,
        count(*) FILTER (WHERE kind = 'child+') - count(*) FILTER (WHERE kind = 'child-') AS child_delta,
        count(*) FILTER (WHERE kind = 'born' AND seq < ds_seq)
          - count(*) FILTER (WHERE kind IN ('gone-self', 'gone-below') AND seq < ds_seq) AS subtree_delta,
        count(*) FILTER (WHERE kind = 'gone-below') AS gone_below,
        count(*) FILTER (WHERE kind = 'gone-below' AND seq > ds_seq) AS gone_below_after_ds
      FROM (
        SELECT c.*, max(c.seq) FILTER (WHERE c.kind = 'ds') OVER (PARTITION BY c.tenant_id, c.workspace_id) AS ds_seq
        FROM contributions c
      ) c
      GROUP BY tenant_id, workspace_id
    ),
    inserted AS (
      INSERT INTO workspaces (tenant_id, workspace_id, parent_workspace_id, name, is_root, depth, path, child_count,
        status, deletion_total, deletion_done, revision, created_position, created_at, updated_at)
      SELECT c.tenant_id, c.workspace_id, c.parent_id, n.name, c.parent_id IS NULL, cardinality(c.path) - 1, c.path,
        s.child_delta, CASE WHEN s.ds_seq IS NULL THEN 'live' ELSE 'deleting' END,
        CASE WHEN s.ds_seq IS NOT NULL THEN s.subtree_delta END,
        CASE WHEN s.ds_seq IS NOT NULL THEN s.gone_below_after_ds END,
        u.revision, c.position, c.at, u.at
      FROM summary s
      JOIN b c ON c.seq = s.created_seq
      JOIN b n ON n.seq = s.named_seq
      JOIN b u ON u.seq = s.touched_seq
      WHERE NOT s.deleted
      RETURNING 1
    ),
    updated AS (
      UPDATE workspaces w SET
        name = coalesce(n.name, w.name),
        revision = coalesce(u.revision, w.revision),
        updated_at = coalesce(u.at, w.updated_at),
        status = CASE WHEN s.ds_seq IS NOT NULL THEN 'deleting' ELSE w.status END,
        child_count = w.child_count + s.child_delta,
        deletion_total = CASE WHEN s.ds_seq IS NOT NULL THEN d.subtree_before + s.subtree_delta ELSE w.deletion_total END,
        deletion_done = CASE WHEN s.ds_seq IS NOT NULL THEN s.gone_below_after_ds
                             WHEN w.status = 'deleting' THEN w.deletion_done + s.gone_below
                             ELSE w.deletion_done END
      FROM summary s
      LEFT JOIN b n ON n.seq = s.named_seq
      LEFT JOIN b u ON u.seq = s.touched_seq
      LEFT JOIN b d ON d.seq = s.ds_seq
      WHERE w.tenant_id = s.tenant_id AND w.workspace_id = s.workspace_id
        AND s.created_seq IS NULL AND NOT s.deleted
        AND (s.touched_seq IS NOT NULL OR s.child_delta <> 0 OR (w.status = 'deleting' AND s.gone_below > 0))
      RETURNING 1
    ),
    deleted AS (
      DELETE FROM workspaces w USING summary s
      WHERE w.tenant_id = s.tenant_id AND w.workspace_id = s.workspace_id AND s.deleted AND s.created_seq IS NULL
      RETURNING 1
    ),
    tenant_changes AS (
      SELECT tenant_id,
        max(seq) AS last_seq,
        min(seq) FILTER (WHERE type = 'TenantCreated') AS created_seq,
        count(*) FILTER (WHERE type = 'WorkspaceCreated') - count(*) FILTER (WHERE type = 'WorkspaceDeleted') AS count_delta,
        max(seq) FILTER (WHERE type = 'WorkspaceCreated' AND parent_id IS NULL) AS root_seq,
        (array_agg(workspace_id ORDER BY seq DESC) FILTER (WHERE type = 'WorkspaceCreated' AND parent_id IS NULL))[1] AS root_id,
        max(seq) FILTER (WHERE type = 'WorkspaceDeleted' AND cardinality(path) = 1) AS root_gone_seq,
        max(tds_seq) AS tds_seq,
        max(td_seq) AS td_seq,
        count(*) FILTER (WHERE type = 'WorkspaceCreated' AND seq < tds_seq)
          - count(*) FILTER (WHERE type = 'WorkspaceDeleted' AND seq < tds_seq) AS count_delta_before_tds,
        count(*) FILTER (WHERE type = 'WorkspaceDeleted' AND seq > coalesce(tds_seq, -1)
                           AND (td_seq IS NULL OR seq < td_seq)) AS deleted_while_deleting
      FROM (
        SELECT e.*,
          max(seq) FILTER (WHERE type = 'TenantDeletionStarted') OVER (PARTITION BY tenant_id) AS tds_seq,
          max(seq) FILTER (WHERE type = 'TenantDeleted') OVER (PARTITION BY tenant_id) AS td_seq
        FROM b e
      ) e
      GROUP BY tenant_id
    ),
    tenant_rows AS (
      SELECT g.tenant_id, g.new_tenant, c.name, c.position AS created_position, c.at AS created_at,
        l.revision, l.at AS updated_at,
        coalesce(t.workspace_count, 0) + x.count_delta AS workspace_count,
        CASE WHEN x.root_gone_seq > coalesce(x.root_seq, -1) THEN NULL
             WHEN x.root_seq IS NOT NULL THEN x.root_id
             ELSE t.root_workspace_id END AS root_workspace_id,
        CASE WHEN x.td_seq > coalesce(x.tds_seq, -1) THEN 'deleted'
             WHEN x.tds_seq IS NOT NULL THEN 'deleting'
             ELSE coalesce(t.status, 'active') END AS status,
        CASE WHEN x.tds_seq IS NOT NULL THEN coalesce(t.workspace_count, 0) + x.count_delta_before_tds
             ELSE t.deletion_total END AS deletion_total,
        CASE WHEN x.tds_seq IS NOT NULL THEN x.deleted_while_deleting
             WHEN t.status = 'deleting' THEN t.deletion_done + x.deleted_while_deleting
             ELSE t.deletion_done END AS deletion_done
      FROM tenant_changes x
      JOIN guard g ON g.tenant_id = x.tenant_id
      JOIN b l ON l.seq = x.last_seq
      LEFT JOIN b c ON c.seq = x.created_seq
      LEFT JOIN LATERAL (SELECT y.* FROM tenants y WHERE y.tenant_id = x.tenant_id OFFSET 0) t ON true
    ),
    tenants_inserted AS (
      INSERT INTO tenants (tenant_id, name, status, root_workspace_id, workspace_count, deletion_total, deletion_done,
        revision, created_position, created_at, updated_at)
      SELECT tenant_id, name, status, root_workspace_id, workspace_count, deletion_total, deletion_done,
        revision, created_position, created_at, updated_at
      FROM tenant_rows WHERE new_tenant
      RETURNING 1
    ),
    tenants_updated AS (
      UPDATE tenants t SET revision = r.revision, updated_at = r.updated_at, workspace_count = r.workspace_count,
        root_workspace_id = r.root_workspace_id, status = r.status, deletion_total = r.deletion_total,
        deletion_done = r.deletion_done
      FROM tenant_rows r WHERE t.tenant_id = r.tenant_id AND NOT r.new_tenant
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM refused) AS refused, (SELECT count(*) FROM inserted) AS inserted,
      (SELECT count(*) FROM updated) AS updated, (SELECT count(*) FROM deleted) AS deleted,
      (SELECT count(*) FROM tenants_inserted) + (SELECT count(*) FROM tenants_updated) AS tenants`,
};

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
  setBased: tenancySetBased,
  bulkLoad: tenancyBulkLoad,
};

function statementFor(event: TenancyEvent, recorded: RecordedEvent): SqlStatement {
  const revision = recorded.revision;
  const at = occurredAt(recorded);
  if (movesOnlyRevision(event)) {
    return sql`UPDATE tenants SET revision = ${revision}, updated_at = ${at}::timestamptz
      WHERE tenant_id = ${event.data.tenantId}::uuid AND revision < ${revision}`;
  }
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
    case 'TenantSuspended': {
      const { tenantId, reason } = event.data;
      return sql`UPDATE tenants SET revision = ${revision}, updated_at = ${at}::timestamptz, status = 'suspended',
          suspension_reason = ${reason}, suspended_at = ${at}::timestamptz
        WHERE tenant_id = ${tenantId}::uuid AND revision < ${revision}`;
    }
    case 'TenantReactivated': {
      const { tenantId } = event.data;
      return sql`UPDATE tenants SET revision = ${revision}, updated_at = ${at}::timestamptz, status = 'active',
          suspension_reason = NULL, suspended_at = NULL
        WHERE tenant_id = ${tenantId}::uuid AND revision < ${revision}`;
    }
    case 'TenantRenamed': {
      const { tenantId, name } = event.data;
      return sql`UPDATE tenants SET revision = ${revision}, updated_at = ${at}::timestamptz, name = ${name}
        WHERE tenant_id = ${tenantId}::uuid AND revision < ${revision}`;
    }
    case 'WorkspaceMoved': {
      const { tenantId, workspaceId, fromParentWorkspaceId, toParentWorkspaceId } = event.data;
      // One statement for the whole subtree, set-based: each row under the moved workspace keeps
      // its path from the moved workspace down and takes the new parent's path above it.
      return sql`WITH guard AS (
          UPDATE tenants SET revision = ${revision}, updated_at = ${at}::timestamptz
          WHERE tenant_id = ${tenantId}::uuid AND revision < ${revision} RETURNING 1),
        moved AS (
          SELECT path FROM workspaces
          WHERE tenant_id = ${tenantId}::uuid AND workspace_id = ${workspaceId}::uuid AND EXISTS (SELECT 1 FROM guard)),
        target AS (
          SELECT path FROM workspaces
          WHERE tenant_id = ${tenantId}::uuid AND workspace_id = ${toParentWorkspaceId}::uuid AND EXISTS (SELECT 1 FROM guard)),
        subtree AS (
          UPDATE workspaces s SET
            path = target.path || s.path[cardinality(moved.path):],
            depth = cardinality(target.path) + cardinality(s.path) - cardinality(moved.path),
            parent_workspace_id = CASE WHEN s.workspace_id = ${workspaceId}::uuid THEN ${toParentWorkspaceId}::uuid
                                       ELSE s.parent_workspace_id END,
            revision = CASE WHEN s.workspace_id = ${workspaceId}::uuid THEN ${revision} ELSE s.revision END,
            updated_at = CASE WHEN s.workspace_id = ${workspaceId}::uuid THEN ${at}::timestamptz ELSE s.updated_at END
          FROM moved, target
          WHERE s.tenant_id = ${tenantId}::uuid AND s.path @> ARRAY[${workspaceId}::uuid]
          RETURNING 1),
        parents AS (
          UPDATE workspaces SET child_count = child_count
            + CASE WHEN workspace_id = ${toParentWorkspaceId}::uuid THEN 1 ELSE -1 END
          WHERE tenant_id = ${tenantId}::uuid
            AND workspace_id IN (${fromParentWorkspaceId}::uuid, ${toParentWorkspaceId}::uuid)
            AND EXISTS (SELECT 1 FROM moved) AND EXISTS (SELECT 1 FROM target)
          RETURNING 1)
        SELECT rm_assert(NOT EXISTS (SELECT 1 FROM guard) OR (EXISTS (SELECT 1 FROM moved) AND EXISTS (SELECT 1 FROM target)),
          ${`WorkspaceMoved ${workspaceId}: it or its new parent ${toParentWorkspaceId} is not in the read model`})`;
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
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}

/** The staging rows of a batch: one per event, with the path tail of each created workspace. */
function stageTenancyEvents(events: readonly RecordedEvent[]): StagingRow[] {
  /** The batch's new workspaces. */
  const created = new WorkspaceMap<{ anchor: string | null; tail: string[] }>();
  return events.map((recorded, seq): StagingRow => {
    const event = decodeTenancyEvent(recorded);
    const row = (
      workspaceId: string | null,
      parentId: string | null,
      name: string | null,
      anchor: string | null,
      tail: string[] | null,
    ): StagingRow => [
      seq,
      recorded.position,
      event.data.tenantId,
      recorded.revision,
      event.type,
      workspaceId,
      parentId,
      name,
      occurredAt(recorded),
      anchor,
      tail,
    ];
    if (movesOnlyRevision(event)) return row(null, null, null, null, null);
    switch (event.type) {
      case 'TenantCreated':
        return row(null, null, event.data.name, null, null);
      case 'WorkspaceCreated': {
        const { tenantId, workspaceId, parentWorkspaceId, name } = event.data;
        const parent = parentWorkspaceId === null ? undefined : created.get(tenantId, parentWorkspaceId);
        const placed =
          parentWorkspaceId === null
            ? { anchor: null, tail: [workspaceId] }
            : parent
              ? { anchor: parent.anchor, tail: [...parent.tail, workspaceId] }
              : { anchor: parentWorkspaceId, tail: [workspaceId] };
        created.set(tenantId, workspaceId, placed);
        return row(workspaceId, parentWorkspaceId, name, placed.anchor, placed.tail);
      }
      case 'WorkspaceRenamed':
        return row(event.data.workspaceId, null, event.data.name, null, null);
      case 'WorkspaceDeletionStarted':
        return row(event.data.workspaceId, null, null, null, null);
      case 'WorkspaceMoved':
      case 'TenantRenamed':
      case 'TenantSuspended':
      case 'TenantReactivated':
        throw new Error(`${event.type} is applied alone, never staged`);
      case 'WorkspaceDeleted':
        return row(event.data.workspaceId, event.data.parentWorkspaceId, null, null, null);
      case 'TenantDeletionStarted':
      case 'TenantDeleted':
        return row(null, null, null, null, null);
      default: {
        const exhaustive: never = event;
        return exhaustive;
      }
    }
  });
}

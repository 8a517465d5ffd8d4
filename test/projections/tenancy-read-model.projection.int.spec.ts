import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import type { TenancyCommand } from '../../src/tenancy/tenancy.commands.js';
import { rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';
import { auditLogProjection } from '../../projections/audit-log.projection.js';
import { applyProjection, enterReadModelSchema } from '../../projections/projection.applier.js';
import type { Projection } from '../../projections/projection.js';
import { tenancyReadModelProjection } from '../../projections/tenancy-read-model.projection.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { recordCommands } from '../support/tenant-trees.js';

/**
 * The projections' SQL against a real PostgreSQL: given events, then rows. The events come from
 * the decider and are stored in the event store, so they carry real revisions and positions.
 */
describe('read-model projections', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let client: pg.PoolClient;
  let schemaCounter = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresEventStore(database.pool, database.url);
    client = await database.pool.connect();
  });
  afterAll(async () => {
    client.release();
    await store.close();
    await database.drop();
  });

  const context = {
    actor: 'test',
    correlationId: 'c',
    causationId: 'c',
    now: new Date('2026-03-01T10:00:00Z'),
  };

  const history = (tenantId: string, commands: TenancyCommand[]): Promise<RecordedEvent[]> =>
    recordCommands(store, tenantId, commands, context);

  const freshSchema = async (): Promise<string> => {
    const schema = `projection_test_${++schemaCounter}`;
    await client.query('SELECT rm_create_schema($1)', [schema]);
    return schema;
  };

  const apply = async (
    schema: string,
    projection: Projection,
    events: readonly RecordedEvent[],
  ): Promise<void> => {
    await client.query('BEGIN');
    try {
      await enterReadModelSchema(client, schema);
      await applyProjection(client, projection, events);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  };

  const rows = async (schema: string, query: string): Promise<Record<string, unknown>[]> => {
    await client.query('BEGIN');
    try {
      await enterReadModelSchema(client, schema);
      return (await client.query(query)).rows;
    } finally {
      await client.query('COMMIT');
    }
  };

  const ids = { tenant: randomUUID(), a: randomUUID(), b: randomUUID(), c: randomUUID() };
  const tree = (tenantId: string): TenancyCommand[] => [
    { type: 'CreateTenant', tenantId, name: 'Projected' },
    { type: 'BootstrapRootWorkspace', tenantId },
    { type: 'CreateWorkspace', tenantId, workspaceId: ids.a, name: 'A' },
    { type: 'CreateWorkspace', tenantId, workspaceId: ids.b, parentWorkspaceId: ids.a, name: 'B' },
    { type: 'CreateWorkspace', tenantId, workspaceId: ids.c, parentWorkspaceId: ids.b, name: 'C' },
    { type: 'RenameWorkspace', tenantId, workspaceId: ids.b, name: 'B renamed' },
  ];

  describe('given a tenant with a three-level tree', () => {
    let events: RecordedEvent[];
    beforeAll(async () => {
      events = await history(ids.tenant, tree(ids.tenant));
    });

    it('builds the tenant row with its root and workspace count', async () => {
      const schema = await freshSchema();
      await apply(schema, tenancyReadModelProjection, events);
      expect(
        await rows(
          schema,
          'SELECT tenant_id, name, status, root_workspace_id, workspace_count, revision FROM tenants',
        ),
      ).toEqual([
        {
          tenant_id: ids.tenant,
          name: 'Projected',
          status: 'active',
          root_workspace_id: rootWorkspaceIdOf(ids.tenant),
          workspace_count: 4,
          revision: 5,
        },
      ]);
    });

    it('builds workspaces with parent, depth, path from the root and child counts', async () => {
      const schema = await freshSchema();
      await apply(schema, tenancyReadModelProjection, events);
      const root = rootWorkspaceIdOf(ids.tenant);
      expect(
        await rows(
          schema,
          'SELECT workspace_id, parent_workspace_id, name, depth, path::text[] AS path, child_count FROM workspaces ORDER BY depth',
        ),
      ).toEqual([
        {
          workspace_id: root,
          parent_workspace_id: null,
          name: 'Root',
          depth: 0,
          path: [root],
          child_count: 1,
        },
        {
          workspace_id: ids.a,
          parent_workspace_id: root,
          name: 'A',
          depth: 1,
          path: [root, ids.a],
          child_count: 1,
        },
        {
          workspace_id: ids.b,
          parent_workspace_id: ids.a,
          name: 'B renamed',
          depth: 2,
          path: [root, ids.a, ids.b],
          child_count: 1,
        },
        {
          workspace_id: ids.c,
          parent_workspace_id: ids.b,
          name: 'C',
          depth: 3,
          path: [root, ids.a, ids.b, ids.c],
          child_count: 0,
        },
      ]);
    });

    it('writes one audit row per event, each workspace event naming its workspace', async () => {
      const schema = await freshSchema();
      await apply(schema, auditLogProjection, events);
      const audit = await rows(
        schema,
        'SELECT event_type, workspace_id, actor, correlation_id FROM audit_log ORDER BY position',
      );
      expect(audit.map((row) => row.event_type)).toEqual(events.map((event) => event.type));
      for (const row of audit) {
        if (String(row.event_type).startsWith('Workspace')) expect(row.workspace_id).not.toBeNull();
        expect(row).toMatchObject({ actor: 'test', correlation_id: 'c' });
      }
    });

    it.each([tenancyReadModelProjection, auditLogProjection])(
      '$name: the same events delivered twice give the same rows',
      async (projection) => {
        const once = await freshSchema();
        const twice = await freshSchema();
        await apply(once, projection, events);
        await apply(twice, projection, events);
        await apply(twice, projection, events);
        await apply(twice, projection, events.slice(2, 4));
        const table = projection === auditLogProjection ? 'audit_log' : 'workspaces';
        const snapshot = async (schema: string) => rows(schema, `SELECT * FROM ${table} ORDER BY 1, 2`);
        expect(await snapshot(twice)).toEqual(await snapshot(once));
        expect(await rows(twice, 'SELECT * FROM tenants')).toEqual(await rows(once, 'SELECT * FROM tenants'));
      },
    );
  });

  describe('given deletions', () => {
    it('removes deleted workspaces, keeps counts right and marks a deleted tenant', async () => {
      const tenantId = randomUUID();
      const events = await history(tenantId, [
        ...tree(tenantId).map((command) => ({ ...command, tenantId })),
        { type: 'DeleteWorkspace', tenantId, workspaceId: ids.c, cascade: false },
        { type: 'DeleteTenant', tenantId },
        { type: 'ContinueDeletion', tenantId, maxBatch: 100 },
      ]);
      const schema = await freshSchema();
      await apply(schema, tenancyReadModelProjection, events);
      expect(await rows(schema, 'SELECT count(*)::int AS count FROM workspaces')).toEqual([{ count: 0 }]);
      expect(
        await rows(schema, 'SELECT status, workspace_count, deletion_total, deletion_done FROM tenants'),
      ).toEqual([{ status: 'deleted', workspace_count: 0, deletion_total: 3, deletion_done: 3 }]);
    });

    it('tracks the progress of a subtree cascade on its top', async () => {
      const tenantId = randomUUID();
      const events = await history(tenantId, [
        ...tree(tenantId),
        { type: 'DeleteWorkspace', tenantId, workspaceId: ids.a, cascade: true },
        { type: 'ContinueDeletion', tenantId, maxBatch: 1 },
      ]);
      const schema = await freshSchema();
      await apply(schema, tenancyReadModelProjection, events);
      expect(
        await rows(
          schema,
          `SELECT status, deletion_total, deletion_done FROM workspaces WHERE workspace_id = '${ids.a}'`,
        ),
      ).toEqual([{ status: 'deleting', deletion_total: 3, deletion_done: 1 }]);
    });

    it('a parent deleted before its children fails loudly on the composite foreign key', async () => {
      const tenantId = randomUUID();
      const events = await history(tenantId, tree(tenantId));
      const schema = await freshSchema();
      await apply(schema, tenancyReadModelProjection, events);
      const parentFirst: RecordedEvent = {
        ...(events[events.length - 1] as RecordedEvent),
        id: randomUUID(),
        type: 'WorkspaceDeleted',
        revision: 99,
        data: {
          tenantId,
          workspaceId: ids.a,
          parentWorkspaceId: rootWorkspaceIdOf(tenantId),
          isRoot: false,
          reason: 'requested',
        },
      };
      await expect(apply(schema, tenancyReadModelProjection, [parentFirst])).rejects.toThrow(/foreign key/);
    });

    it('tenant_id of a row never changes', async () => {
      const tenantId = randomUUID();
      const events = await history(tenantId, tree(tenantId));
      const schema = await freshSchema();
      await apply(schema, tenancyReadModelProjection, events);
      await client.query('BEGIN');
      try {
        await enterReadModelSchema(client, schema);
        await expect(client.query(`UPDATE tenants SET tenant_id = '${randomUUID()}'`)).rejects.toThrow(
          /never changes/,
        );
      } finally {
        await client.query('ROLLBACK');
      }
    });
  });

  describe('given the lifecycle: a subtree moved, the tenant renamed, suspended and reactivated', () => {
    const lifecycleIds = { x: randomUUID(), y: randomUUID() };
    let events: RecordedEvent[];
    let tenantId: string;
    beforeAll(async () => {
      tenantId = randomUUID();
      events = await history(tenantId, [
        ...tree(tenantId),
        { type: 'CreateWorkspace', tenantId, workspaceId: lifecycleIds.x, name: 'X' },
        {
          type: 'CreateWorkspace',
          tenantId,
          workspaceId: lifecycleIds.y,
          parentWorkspaceId: lifecycleIds.x,
          name: 'Y',
        },
        // B (with C below it) leaves A for Y: two levels deeper.
        { type: 'MoveWorkspace', tenantId, workspaceId: ids.b, parentWorkspaceId: lifecycleIds.y },
        { type: 'RenameTenant', tenantId, name: 'Projected anew', nameReservation: 3 },
        { type: 'SuspendTenant', tenantId, reason: 'unpaid' },
      ]);
    });

    const workspaces = (schema: string) =>
      rows(
        schema,
        `SELECT workspace_id, parent_workspace_id, depth, path, child_count FROM workspaces
         WHERE workspace_id IN ('${ids.a}', '${ids.b}', '${ids.c}', '${lifecycleIds.y}') ORDER BY depth, name`,
      );

    it('a move is one statement that gives the whole subtree its new parent, depths and paths', async () => {
      const moved = events.find((event) => event.type === 'WorkspaceMoved')!;
      expect(tenancyReadModelProjection.project(moved)).toHaveLength(1);
      const schema = await freshSchema();
      await apply(schema, tenancyReadModelProjection, events);
      const root = rootWorkspaceIdOf(tenantId);
      expect(await workspaces(schema)).toEqual([
        { workspace_id: ids.a, parent_workspace_id: root, depth: 1, path: [root, ids.a], child_count: 0 },
        {
          workspace_id: lifecycleIds.y,
          parent_workspace_id: lifecycleIds.x,
          depth: 2,
          path: [root, lifecycleIds.x, lifecycleIds.y],
          child_count: 1,
        },
        {
          workspace_id: ids.b,
          parent_workspace_id: lifecycleIds.y,
          depth: 3,
          path: [root, lifecycleIds.x, lifecycleIds.y, ids.b],
          child_count: 1,
        },
        {
          workspace_id: ids.c,
          parent_workspace_id: ids.b,
          depth: 4,
          path: [root, lifecycleIds.x, lifecycleIds.y, ids.b, ids.c],
          child_count: 0,
        },
      ]);
      expect(await rows(schema, 'SELECT name, status, suspension_reason FROM tenants')).toEqual([
        { name: 'Projected anew', status: 'suspended', suspension_reason: 'unpaid' },
      ]);
    });

    it('delivered twice, one by one and in one batch, the lifecycle events change nothing more', async () => {
      const once = await freshSchema();
      await apply(once, tenancyReadModelProjection, events);
      const twice = await freshSchema();
      for (const event of events) await apply(twice, tenancyReadModelProjection, [event]);
      await apply(twice, tenancyReadModelProjection, events);
      for (const event of events.slice(-3)) await apply(twice, tenancyReadModelProjection, [event]);
      expect(await workspaces(twice)).toEqual(await workspaces(once));
      const tenant = 'SELECT name, status, suspension_reason, revision, workspace_count FROM tenants';
      expect(await rows(twice, tenant)).toEqual(await rows(once, tenant));
    });

    it('reactivation clears the suspension', async () => {
      const other = randomUUID();
      const lifecycle = await history(other, [
        { type: 'CreateTenant', tenantId: other, name: 'Back again' },
        { type: 'SuspendTenant', tenantId: other, reason: 'unpaid' },
        { type: 'ReactivateTenant', tenantId: other },
      ]);
      const schema = await freshSchema();
      await apply(schema, tenancyReadModelProjection, lifecycle.slice(0, 2));
      expect(await rows(schema, 'SELECT status, suspension_reason FROM tenants')).toEqual([
        { status: 'suspended', suspension_reason: 'unpaid' },
      ]);
      await apply(schema, tenancyReadModelProjection, lifecycle.slice(2));
      expect(await rows(schema, 'SELECT status, suspension_reason, suspended_at FROM tenants')).toEqual([
        { status: 'active', suspension_reason: null, suspended_at: null },
      ]);
    });
  });
});

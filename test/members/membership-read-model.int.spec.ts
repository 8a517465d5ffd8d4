import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { applyProjection, enterReadModelSchema } from '../../projections/projection.applier.js';
import { membershipReadModelProjection } from '../../projections/membership-read-model.projection.js';
import { ScopedReader } from '../../src/application/queries/scoped-reader.js';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { decodeTenancyEvent } from '../../src/stored-events/tenancy-event.codec.js';
import type { TenancyCommand } from '../../src/tenancy/tenancy.commands.js';
import { evolve, initialState } from '../../src/tenancy/tenancy.decider.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { recordCommands } from '../support/tenant-trees.js';
import { sealedName } from '../../src/tenancy/decider.test-kit.js';

const TABLES = ['membership_revisions', 'members', 'member_groups', 'group_members', 'grants'] as const;

/**
 * The membership projection against a real PostgreSQL: its rows must say what the domain's own fold
 * says after the same events, delivered once or again, and only the caller's tenant may read them.
 */
describe('membership read model', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let client: pg.PoolClient;
  let schemas = 0;
  const context = {
    actor: 'test',
    correlationId: 'c',
    causationId: 'c',
    now: new Date('2026-03-01T10:00:00Z'),
  };

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

  const history = (tenantId: string, commands: TenancyCommand[]): Promise<RecordedEvent[]> =>
    recordCommands(store, tenantId, commands, context);

  const freshSchema = async (): Promise<string> => {
    const schema = `membership_test_${++schemas}`;
    await client.query('SELECT rm_create_schema($1)', [schema]);
    return schema;
  };

  const apply = async (schema: string, events: readonly RecordedEvent[]) => {
    await client.query('BEGIN');
    try {
      await enterReadModelSchema(client, schema);
      await applyProjection(client, membershipReadModelProjection, events);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  };

  const snapshot = async (schema: string) => {
    await client.query('BEGIN');
    try {
      await enterReadModelSchema(client, schema);
      const tables: Record<string, unknown[]> = {};
      for (const table of TABLES)
        tables[table] = (await client.query(`SELECT * FROM ${table} ORDER BY 1, 2`)).rows;
      return tables;
    } finally {
      await client.query('COMMIT');
    }
  };

  /** What the read model must hold, as the fold of the same events says it. */
  const expectedFrom = (events: readonly RecordedEvent[]) => {
    const state = events.map(decodeTenancyEvent).reduce(evolve, initialState());
    const { membership } = state;
    return {
      members: [...membership.members.values()].map((member) => [member.userId, member.displayName]).sort(),
      groups: [...membership.groups.values()]
        .map((group) => [group.groupId, group.name, group.members.size])
        .sort(),
      groupMembers: [...membership.groups.values()]
        .flatMap((group) => [...group.members].map((userId) => [group.groupId, userId]))
        .sort(),
      grants: [...membership.grants.values()]
        .map((grant) => [
          grant.grantId,
          grant.principal.type,
          grant.principal.id,
          grant.role,
          grant.workspaceId,
        ])
        .sort(),
    };
  };

  const actualIn = async (schema: string) => {
    const tables = (await snapshot(schema)) as Record<string, Record<string, unknown>[]>;
    return {
      members: tables.members!.map((row) => [row.user_id, row.display_name]).sort(),
      groups: tables.member_groups!.map((row) => [row.group_id, row.name, row.member_count]).sort(),
      groupMembers: tables.group_members!.map((row) => [row.group_id, row.user_id]).sort(),
      grants: tables
        .grants!.map((row) => [
          row.grant_id,
          row.principal_type,
          row.principal_id,
          row.role,
          row.workspace_id,
        ])
        .sort(),
    };
  };

  const tenantId = randomUUID();
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
  const [ops, dev] = [randomUUID(), randomUUID()];
  const key = randomUUID();
  const life = (tenantId: string): TenancyCommand[] => [
    { type: 'CreateTenant', tenantId, name: 'Projected members', adminUserId: 'alice' },
    { type: 'BootstrapRootWorkspace', tenantId },
    { type: 'CreateWorkspace', tenantId, workspaceId: a, name: 'A' },
    { type: 'CreateWorkspace', tenantId, workspaceId: b, parentWorkspaceId: a, name: 'B' },
    { type: 'CreateWorkspace', tenantId, workspaceId: c, name: 'C' },
    { type: 'AddMember', tenantId, userId: 'bob', displayName: sealedName('Bob') },
    { type: 'AddMember', tenantId, userId: 'carol' },
    { type: 'AddMember', tenantId, userId: 'bob', displayName: sealedName("Bob O'Brien") },
    { type: 'CreateGroup', tenantId, groupId: ops, name: 'Ops' },
    { type: 'CreateGroup', tenantId, groupId: dev, name: 'Dev' },
    { type: 'RenameGroup', tenantId, groupId: dev, name: 'Developers' },
    { type: 'AddGroupMember', tenantId, groupId: ops, userId: 'bob' },
    { type: 'AddGroupMember', tenantId, groupId: ops, userId: 'carol' },
    { type: 'AddGroupMember', tenantId, groupId: dev, userId: 'carol' },
    {
      type: 'GrantRole',
      tenantId,
      grantId: randomUUID(),
      principal: { type: 'group', id: ops },
      role: 'editor',
      workspaceId: a,
    },
    {
      type: 'GrantRole',
      tenantId,
      grantId: randomUUID(),
      principal: { type: 'user', id: 'bob' },
      role: 'viewer',
      workspaceId: b,
    },
    {
      type: 'GrantRole',
      tenantId,
      grantId: randomUUID(),
      principal: { type: 'user', id: 'bob' },
      role: 'admin',
      workspaceId: b,
    },
    {
      type: 'GrantRole',
      tenantId,
      grantId: randomUUID(),
      principal: { type: 'group', id: dev },
      role: 'viewer',
      workspaceId: null,
    },
    {
      type: 'IssueApiKey',
      tenantId,
      apiKeyId: key,
      role: 'reader',
      workspaceId: c,
      name: null,
      secretHash: `sha256:${'ab'.repeat(32)}`,
      issuedAt: '2026-03-01T10:00:00.000Z',
    },
    { type: 'RemoveGroupMember', tenantId, groupId: ops, userId: 'carol' },
    { type: 'RemoveMember', tenantId, userId: 'carol' },
    { type: 'DeleteWorkspace', tenantId, workspaceId: a, cascade: true },
    { type: 'ContinueDeletion', tenantId, maxBatch: 10 },
    { type: 'DeleteGroup', tenantId, groupId: dev },
  ];

  describe('given a tenant whose members, groups and grants came and went', () => {
    let events: RecordedEvent[];
    beforeAll(async () => {
      events = await history(tenantId, life(tenantId));
    });

    it('holds what the fold holds, at every step', async () => {
      const schema = await freshSchema();
      for (let end = 1; end <= events.length; end++) {
        await apply(schema, events.slice(end - 1, end));
        expect({ end, ...(await actualIn(schema)) }).toEqual({ end, ...expectedFrom(events.slice(0, end)) });
      }
      const final = await actualIn(schema);
      expect(final.members).toEqual([
        ['alice', null],
        ['bob', sealedName("Bob O'Brien")],
      ]);
      expect(final.grants.map((grant) => grant[1])).toEqual(expect.arrayContaining(['user', 'apiKey']));
    });

    it('the same events delivered twice give the same rows', async () => {
      const once = await freshSchema();
      const twice = await freshSchema();
      await apply(once, events);
      await apply(twice, events);
      await apply(twice, events);
      await apply(twice, events.slice(5, 12));
      expect(await snapshot(twice)).toEqual(await snapshot(once));
    });

    it('ends every member, group and grant with the tenant, and stays ended when delivered again', async () => {
      const other = randomUUID();
      const more = await history(other, [
        ...life(other),
        { type: 'DeleteTenant', tenantId: other },
        { type: 'ContinueDeletion', tenantId: other, maxBatch: 100 },
      ]);
      const schema = await freshSchema();
      await apply(schema, more);
      await apply(schema, more);
      const tables = await snapshot(schema);
      expect([tables.members, tables.member_groups, tables.group_members, tables.grants]).toEqual([
        [],
        [],
        [],
        [],
      ]);
      expect(tables.membership_revisions).toHaveLength(1);
    });
  });

  describe('row-level security', () => {
    const tenants = [randomUUID(), randomUUID()];
    beforeAll(async () => {
      for (const id of tenants) {
        const groupId = randomUUID();
        const admin = `admin-of-${id.slice(0, 8)}`;
        const events = await history(id, [
          { type: 'CreateTenant', tenantId: id, name: `RLS ${id}`, adminUserId: admin },
          { type: 'CreateGroup', tenantId: id, groupId, name: 'G' },
          { type: 'AddGroupMember', tenantId: id, groupId, userId: admin },
        ]);
        await apply('read_model', events);
      }
    });

    it.each(TABLES)(
      "%s: the API role with one tenant set sees none of another tenant's rows",
      async (table) => {
        const reader = new ScopedReader(database.pool);
        for (const id of tenants) {
          const seen = await reader.read(
            { kind: 'tenant', tenantId: id },
            async (scoped) =>
              (await scoped.query<{ tenant_id: string }>(`SELECT tenant_id FROM ${table}`)).rows,
          );
          expect(seen.length).toBeGreaterThan(0);
          expect(seen.every((row) => row.tenant_id === id)).toBe(true);
        }
      },
    );

    it('forces row-level security on every membership table; the API role sees nothing unscoped and writes nothing', async () => {
      const { rows } = await client.query<{
        relname: string;
        relrowsecurity: boolean;
        relforcerowsecurity: boolean;
      }>(
        `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
         WHERE relnamespace = 'read_model'::regnamespace AND relname = ANY ($1) ORDER BY relname`,
        [TABLES],
      );
      expect(rows).toHaveLength(TABLES.length);
      expect(rows.every((row) => row.relrowsecurity && row.relforcerowsecurity)).toBe(true);
      await client.query('BEGIN; SET LOCAL ROLE tenancy_api; SET LOCAL search_path TO read_model');
      try {
        for (const table of TABLES) expect((await client.query(`SELECT * FROM ${table}`)).rows).toEqual([]);
        await expect(client.query('DELETE FROM members')).rejects.toThrow(/permission denied/);
      } finally {
        await client.query('ROLLBACK');
      }
    });
  });
});

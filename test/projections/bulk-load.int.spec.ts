import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { inTransaction } from '../../src/database/transaction.js';
import { toEventToAppend } from '../../src/stored-events/event-metadata.js';
import { rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';
import type { PrincipalRef, Role } from '../../src/tenancy/membership.events.js';
import type { TenancyEvent } from '../../src/tenancy/tenancy.events.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { applyProjection, enterReadModelSchemaSql } from '../../projections/projection.applier.js';
import { compareReadModels } from '../../projections/read-model.comparison.js';
import { READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';
import { rebuildReadModels } from '../../projections/read-model.rebuild.js';
import { buildPerEventReference } from '../support/per-event-reference.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The rebuild's bulk forms against the per-event statements on histories the domain never writes
 * but a log may hold (an import, an older writer): the same member, group, membership or grant
 * added twice, two grants of one principal on one workspace, grants without a workspace, and
 * events of a tenant whose TenantCreated is not in the log. The per-event statements skip what
 * conflicts; the bulk forms must give exactly their rows, in chunks of any size.
 */
describe('bulk-load rebuild on histories the domain never writes', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let client: pg.PoolClient;
  let log: RecordedEvent[];
  const reference = 'bulk_reference';

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresEventStore(database.pool, database.url);
    client = await database.pool.connect();
    const context = () => ({
      actor: 'test',
      correlationId: randomUUID(),
      causationId: randomUUID(),
      now: new Date(),
    });
    const append = async (tenantId: string, events: readonly TenancyEvent[]) => {
      await store.appendToStream(
        tenantStreamName(tenantId),
        events.map((event) => toEventToAppend(event, context())),
        'any',
      );
    };

    const tenantId = randomUUID();
    const root = rootWorkspaceIdOf(tenantId);
    const child = randomUUID();
    const groupId = randomUUID();
    const grantId = randomUUID();
    await append(tenantId, [
      { type: 'TenantCreated', data: { tenantId, name: `Bulk ${tenantId}` } },
      {
        type: 'WorkspaceCreated',
        data: { tenantId, workspaceId: root, parentWorkspaceId: null, name: 'Root', isRoot: true },
      },
      {
        type: 'WorkspaceCreated',
        data: { tenantId, workspaceId: child, parentWorkspaceId: root, name: 'Child', isRoot: false },
      },
      { type: 'MemberAdded', data: { tenantId, userId: 'ann|ops', displayName: { text: 'Ann' } } },
      { type: 'MemberAdded', data: { tenantId, userId: 'ann|ops', displayName: { text: 'Ann again' } } },
      { type: 'MemberAdded', data: { tenantId, userId: 'bob', displayName: null } },
      { type: 'GroupCreated', data: { tenantId, groupId, name: 'Ops' } },
      { type: 'GroupCreated', data: { tenantId, groupId, name: 'Ops again' } },
      { type: 'GroupMemberAdded', data: { tenantId, groupId, userId: 'ann|ops' } },
      { type: 'GroupMemberAdded', data: { tenantId, groupId, userId: 'ann|ops' } },
      { type: 'GroupMemberAdded', data: { tenantId, groupId, userId: 'bob' } },
      roleGranted(tenantId, grantId, { type: 'user', id: 'bob' }, 'viewer', child),
      // The same grant id again, then the same principal on the same workspace under another id.
      roleGranted(tenantId, grantId, { type: 'user', id: 'ann|ops' }, 'admin', root),
      roleGranted(tenantId, randomUUID(), { type: 'user', id: 'bob' }, 'admin', child),
      // Without a workspace, two grants of one principal do not conflict.
      roleGranted(tenantId, randomUUID(), { type: 'group', id: groupId }, 'viewer', null),
      roleGranted(tenantId, randomUUID(), { type: 'group', id: groupId }, 'editor', null),
      {
        type: 'ApiKeyIssued',
        data: {
          tenantId,
          apiKeyId: randomUUID(),
          role: 'admin',
          workspaceId: null,
          name: null,
          secretHash: 'not-a-real-hash',
          issuedAt: new Date().toISOString(),
        },
      },
      { type: 'WorkspaceRenamed', data: { tenantId, workspaceId: child, name: 'Child renamed' } },
      { type: 'GroupMemberAdded', data: { tenantId, groupId, userId: 'bob' } },
      { type: 'MemberAdded', data: { tenantId, userId: 'cy', displayName: null } },
      { type: 'GroupMemberAdded', data: { tenantId, groupId, userId: 'cy' } },
      // The same ids written in capitals (an import keeps what a file says): PostgreSQL reads them
      // as the same UUIDs, so these are the same tenant, group and grant again.
      {
        type: 'WorkspaceCreated',
        data: {
          tenantId: tenantId.toUpperCase(),
          workspaceId: randomUUID().toUpperCase(),
          parentWorkspaceId: child.toUpperCase(),
          name: 'Grandchild',
          isRoot: false,
        },
      },
      { type: 'MemberAdded', data: { tenantId: tenantId.toUpperCase(), userId: 'bob', displayName: null } },
      { type: 'GroupCreated', data: { tenantId, groupId: groupId.toUpperCase(), name: 'Ops in capitals' } },
      { type: 'GroupMemberAdded', data: { tenantId, groupId: groupId.toUpperCase(), userId: 'cy' } },
      roleGranted(tenantId.toUpperCase(), grantId.toUpperCase(), { type: 'user', id: 'cy' }, 'viewer', null),
      roleGranted(tenantId, randomUUID(), { type: 'user', id: 'bob' }, 'viewer', child.toUpperCase()),
    ]);
    // A tenant whose stream starts without its TenantCreated: the tenancy read model skips its events.
    const orphan = randomUUID();
    await append(orphan, [
      {
        type: 'WorkspaceCreated',
        data: {
          tenantId: orphan,
          workspaceId: rootWorkspaceIdOf(orphan),
          parentWorkspaceId: null,
          name: 'Root',
          isRoot: true,
        },
      },
      { type: 'MemberAdded', data: { tenantId: orphan, userId: 'dee', displayName: null } },
    ]);

    log = [];
    for (let after: RecordedEvent['position'] | undefined; ;) {
      const page = await store.readAll({
        ...(after ? { after } : {}),
        maxCount: 100,
        filter: { streamPrefixes: ['tenant-'] },
      });
      log.push(...page.events);
      after = page.nextPosition;
      if (page.isEnd) break;
    }
    await buildPerEventReference(client, reference, log);
  }, 60_000);
  afterAll(async () => {
    client.release();
    await store.close();
    await database.drop();
  });

  it('the per-event statements skipped the conflicts (ids in capitals too), and the workspaces of the tenant without a TenantCreated', async () => {
    const count = async (table: string) =>
      (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${reference}.${table}`)).rows[0]?.n;
    expect(await count('tenants')).toBe(1);
    // The root, its child, and the grandchild whose tenant and parent are written in capitals.
    expect(await count('workspaces')).toBe(3);
    // ann|ops, bob and cy; and the other tenant's dee: membership has no TenantCreated to wait for.
    expect(await count('members')).toBe(4);
    expect(await count('member_groups')).toBe(1);
    expect(await count('group_members')).toBe(3);
    // bob's viewer grant, the group's two tenant-wide grants, the key's own.
    expect(await count('grants')).toBe(4);
  });

  it.each([1, 2, 5, 1000])('a rebuild in chunks of %i events gives exactly those rows', async (chunkSize) => {
    const schema = `bulk_rebuild_${chunkSize}`;
    await rebuildReadModels({ store, client, schema, batchSize: chunkSize, chunkSize, pool: database.pool });
    const comparison = await compareReadModels(client, reference, schema);
    expect(comparison.filter((table) => table.onlyLeft > 0 || table.onlyRight > 0)).toEqual([]);
    expect(comparison.map((table) => table.rowsLeft)).toEqual(comparison.map((table) => table.rowsRight));
  });

  it('a rebuild finished on two connections ends with the indexes, constraints and settings of a schema made whole', async () => {
    // What finishRebuild builds and checks side by side, against what rm_create_schema makes at once.
    const shape = async (schema: string) =>
      (
        await client.query<{ item: string }>(
          `SELECT replace(item, $1 || '.', 'S.') AS item FROM (
             SELECT pg_get_indexdef(i.indexrelid) AS item FROM pg_index i
               JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
             UNION ALL
             SELECT c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) || ' validated=' || k.convalidated
               FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = $1
             UNION ALL
             SELECT c.relname || ' rls=' || c.relrowsecurity || ' forced=' || c.relforcerowsecurity
               || ' options=' || coalesce(array_to_string(c.reloptions, ','), '')
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'
           ) items ORDER BY 1`,
          [schema],
        )
      ).rows.map((row) => row.item);
    const whole = 'bulk_made_whole';
    await client.query('SELECT rm_create_schema($1)', [whole]);
    const expected = await shape(whole);
    expect(expected.filter((item) => item.startsWith('CREATE INDEX')).length).toBeGreaterThan(5);
    expect(await shape('bulk_rebuild_1000')).toEqual(expected);
  });

  it.each([2, 1000])(
    'the live set-based form, in batches of %i events, gives exactly those rows',
    async (size) => {
      const schema = `bulk_set_based_${size}`;
      await client.query('SELECT rm_create_schema($1)', [schema]);
      for (let start = 0; start < log.length; start += size) {
        const batch = log.slice(start, start + size);
        await inTransaction(
          client,
          async () => {
            for (const projection of READ_MODEL_PROJECTIONS)
              await applyProjection(client, projection, batch, 'set-based');
          },
          `BEGIN; ${enterReadModelSchemaSql(schema)}`,
        );
      }
      const comparison = await compareReadModels(client, reference, schema);
      expect(comparison.filter((table) => table.onlyLeft > 0 || table.onlyRight > 0)).toEqual([]);
      expect(comparison.map((table) => table.rowsLeft)).toEqual(comparison.map((table) => table.rowsRight));
    },
  );
});

function roleGranted(
  tenantId: string,
  grantId: string,
  principal: PrincipalRef,
  role: Role,
  workspaceId: string | null,
): TenancyEvent {
  return { type: 'RoleGranted', data: { tenantId, grantId, principal, role, workspaceId } };
}

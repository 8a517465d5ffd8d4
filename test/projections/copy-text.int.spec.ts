import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { toEventToAppend } from '../../src/stored-events/event-metadata.js';
import { rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';
import type { TenancyEvent } from '../../src/tenancy/tenancy.events.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { compareReadModels } from '../../projections/read-model.comparison.js';
import { rebuildReadModels } from '../../projections/read-model.rebuild.js';
import { buildPerEventReference } from '../support/per-event-reference.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Text that COPY's text format treats specially, loaded by the rebuild's bulk forms: a tab or a
 * line break would end a field or a row, a backslash starts an escape, and `\N` (backslash, N) is
 * how the format writes NULL. The per-event statements, which quote their values as SQL literals,
 * are the reference; the names are also checked as written, so that both paths being wrong alike
 * cannot pass.
 */
const AWKWARD = [
  'tab\there',
  'line\nbreak',
  'carriage\rreturn',
  'back\\slash',
  '\\N',
  'trailing backslash \\',
  'a "quoted" {name}, with commas',
  'NULL',
  'ünïcødé ✓ 𝄞',
];

describe('text COPY treats specially, through the bulk-load rebuild', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let client: pg.PoolClient;
  const reference = 'copy_text_reference';
  const tenantId = randomUUID();
  const groupId = randomUUID();
  const actor = 'an \\ "actor"\twith\nlines';

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresEventStore(database.pool, database.url);
    client = await database.pool.connect();
    const root = rootWorkspaceIdOf(tenantId);
    const workspaceIds = AWKWARD.map(() => randomUUID());
    const events: TenancyEvent[] = [
      { type: 'TenantCreated', data: { tenantId, name: 'tenant\t\\N\n"x"' } },
      {
        type: 'WorkspaceCreated',
        data: { tenantId, workspaceId: root, parentWorkspaceId: null, name: 'Root', isRoot: true },
      },
      // Each under the one before, so that the paths grow too.
      ...AWKWARD.map((name, index): TenancyEvent => ({
        type: 'WorkspaceCreated',
        data: {
          tenantId,
          workspaceId: workspaceIds[index] as string,
          parentWorkspaceId: index === 0 ? root : (workspaceIds[index - 1] as string),
          name,
          isRoot: false,
        },
      })),
      { type: 'MemberAdded', data: { tenantId, userId: 'ann|ops', displayName: { text: '\\N' } } },
      { type: 'GroupCreated', data: { tenantId, groupId, name: 'group\nof "\\"' } },
      { type: 'GroupMemberAdded', data: { tenantId, groupId, userId: 'ann|ops' } },
    ];
    await store.appendToStream(
      tenantStreamName(tenantId),
      events.map((event) =>
        toEventToAppend(event, {
          actor,
          correlationId: '\\N',
          causationId: 'tab\tcause',
          now: new Date(),
        }),
      ),
      'no_stream',
    );
    const log: RecordedEvent[] = [];
    for await (const event of store.readStream(tenantStreamName(tenantId))) log.push(event);
    await buildPerEventReference(client, reference, log);
  }, 60_000);
  afterAll(async () => {
    client.release();
    await store.close();
    await database.drop();
  });

  it.each([2, 1000])(
    'a rebuild in chunks of %i events gives the rows of the per-event path',
    async (chunkSize) => {
      const schema = `copy_text_rebuild_${chunkSize}`;
      await rebuildReadModels({
        store,
        client,
        schema,
        batchSize: chunkSize,
        chunkSize,
        pool: database.pool,
      });
      const comparison = await compareReadModels(client, reference, schema);
      expect(comparison.filter((table) => table.onlyLeft > 0 || table.onlyRight > 0)).toEqual([]);
      expect(comparison.map((table) => table.rowsLeft)).toEqual(comparison.map((table) => table.rowsRight));

      const names = await client.query<{ name: string; depth: number }>(
        `SELECT name, depth FROM ${schema}.workspaces WHERE NOT is_root ORDER BY revision`,
      );
      expect(names.rows).toEqual(AWKWARD.map((name, index) => ({ name, depth: index + 1 })));
      const tenant = await client.query<{ name: string }>(`SELECT name FROM ${schema}.tenants`);
      expect(tenant.rows).toEqual([{ name: 'tenant\t\\N\n"x"' }]);
      const audit = await client.query<{ actor: string; correlation_id: string; causation_id: string }>(
        `SELECT DISTINCT actor, correlation_id, causation_id FROM ${schema}.audit_log`,
      );
      expect(audit.rows).toEqual([{ actor, correlation_id: '\\N', causation_id: 'tab\tcause' }]);
      const group = await client.query<{ name: string }>(`SELECT name FROM ${schema}.member_groups`);
      expect(group.rows).toEqual([{ name: 'group\nof "\\"' }]);
      const member = await client.query<{ display_name: unknown }>(
        `SELECT display_name FROM ${schema}.members`,
      );
      expect(member.rows).toEqual([{ display_name: { text: '\\N' } }]);
    },
  );
});

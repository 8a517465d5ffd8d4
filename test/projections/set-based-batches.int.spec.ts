import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type pg from 'pg';
import type { Position, RecordedEvent } from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { inTransaction } from '../../src/database/transaction.js';
import { toEventToAppend } from '../../src/stored-events/event-metadata.js';
import { decide, evolve, initialState } from '../../src/tenancy/tenancy.decider.js';
import type { TenancyCommand } from '../../src/tenancy/tenancy.commands.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';
import { newKeyMaterial, seal } from '../../src/personal-data/personal-data.cipher.js';
import {
  applyProjection,
  enterReadModelSchemaSql,
  perEventProjectionSql,
} from '../../projections/projection.applier.js';
import { compareReadModels, type TableComparison } from '../../projections/read-model.comparison.js';
import type { Projection } from '../../projections/projection.js';
import { READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';
import { tenancyReadModelProjection } from '../../projections/tenancy-read-model.projection.js';
import {
  finishRebuild,
  rebuildReadModels,
  resumeRebuild,
  startRebuild,
} from '../../projections/read-model.rebuild.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** Deterministic, so a failing run can be repeated. */
function seededRandom(seed: number): () => number {
  let value = seed;
  return () => {
    value = (value * 1_103_515_245 + 12_345) % 2_147_483_648;
    return value / 2_147_483_648;
  };
}

/**
 * The set-based form of every projection against its per-event form, on one log: five tenants
 * written in interleaved steps (so batches cut across tenants and a tenant's history across
 * batches) with nested creates, renames, leaf deletes, subtree cascades carried out a few
 * workspaces at a time (one left half done), API keys, members with grants (revoked with their
 * workspaces), and a tenant deleted entirely; and the lifecycle: subtrees moved (also under
 * workspaces created in the same batch), tenants renamed, suspended (commands refused meanwhile)
 * and reactivated, quotas set, members' display names changed, erased and members removed.
 */
describe('set-based projection batches', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let client: pg.PoolClient;
  let log: RecordedEvent[];
  let schemas = 0;

  const context = () => ({
    actor: 'test',
    correlationId: randomUUID(),
    causationId: randomUUID(),
    now: new Date(),
  });

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresEventStore(database.pool, database.url);
    client = await database.pool.connect();

    const random = seededRandom(13);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const tenants = Array.from({ length: 5 }, () => ({
      id: randomUUID(),
      state: initialState(),
      revision: undefined as number | undefined,
    }));
    const run = async (tenant: (typeof tenants)[number], command: TenancyCommand): Promise<void> => {
      let events;
      try {
        events = decide(command, tenant.state);
      } catch {
        return; // refused by a rule: nothing to store
      }
      if (events.length === 0) return;
      const result = await store.appendToStream(
        tenantStreamName(tenant.id),
        events.map((event) => toEventToAppend(event, context())),
        tenant.revision ?? 'no_stream',
      );
      tenant.revision = result.nextExpectedRevision;
      for (const event of events) tenant.state = evolve(tenant.state, event);
    };
    const live = (tenant: (typeof tenants)[number]) =>
      [...tenant.state.workspaces.values()].filter((workspace) => workspace.status === 'live');

    for (const [index, tenant] of tenants.entries()) {
      await run(tenant, { type: 'CreateTenant', tenantId: tenant.id, name: `Batch ${index} ${tenant.id}` });
      await run(tenant, { type: 'BootstrapRootWorkspace', tenantId: tenant.id });
    }
    for (let step = 0; step < 900; step++) {
      const tenant = pick(tenants);
      const tenantId = tenant.id;
      const roll = random();
      const workspaces = live(tenant);
      if (workspaces.length === 0) continue;
      if (roll < 0.47) {
        await run(tenant, {
          type: 'CreateWorkspace',
          tenantId,
          workspaceId: randomUUID(),
          parentWorkspaceId: pick(workspaces).workspaceId,
          name: `w${step}`,
        });
      } else if (roll < 0.55) {
        // A subtree moved, often with descendants; a move into its own subtree is refused.
        const moved = pick(workspaces.filter((workspace) => !workspace.isRoot));
        if (moved) {
          await run(tenant, {
            type: 'MoveWorkspace',
            tenantId,
            workspaceId: moved.workspaceId,
            parentWorkspaceId: pick(workspaces).workspaceId,
          });
        }
      } else if (roll < 0.7) {
        await run(tenant, {
          type: 'RenameWorkspace',
          tenantId,
          workspaceId: pick(workspaces).workspaceId,
          name: `r${step}`,
        });
      } else if (roll < 0.8) {
        await run(tenant, {
          type: 'DeleteWorkspace',
          tenantId,
          workspaceId: pick(workspaces).workspaceId,
          cascade: false,
        });
      } else if (roll < 0.84) {
        await run(tenant, {
          type: 'DeleteWorkspace',
          tenantId,
          workspaceId: pick(workspaces).workspaceId,
          cascade: true,
        });
      } else if (roll < 0.96) {
        await run(tenant, { type: 'ContinueDeletion', tenantId, maxBatch: 1 + Math.floor(random() * 4) });
      } else if (roll < 0.98) {
        // A member with a grant on a workspace: membership events in the same batches, and their
        // revocations when the workspace goes.
        const userId = `user-${step}`;
        const key = { keyId: randomUUID(), key: newKeyMaterial() };
        const named = (name: string) => ({ sealed: seal(key, { tenantId, userId }, name) });
        await run(tenant, { type: 'AddMember', tenantId, userId, displayName: named(`User ${step}`) });
        await run(tenant, { type: 'AddMember', tenantId, userId, displayName: named(`Renamed ${step}`) });
        await run(tenant, {
          type: 'GrantRole',
          tenantId,
          grantId: randomUUID(),
          principal: { type: 'user', id: userId },
          role: 'editor',
          workspaceId: pick(workspaces).workspaceId,
        });
      } else {
        await run(tenant, {
          type: 'IssueApiKey',
          tenantId,
          apiKeyId: randomUUID(),
          role: 'reader',
          workspaceId: pick(workspaces).workspaceId,
          secretHash: `sha256:${'0'.repeat(64)}`,
          issuedAt: new Date().toISOString(),
        });
      }
      if (step % 97 === 40) {
        await run(tenant, { type: 'SuspendTenant', tenantId, reason: `step ${step}` });
      } else if (step % 97 === 52) {
        for (const each of tenants) await run(each, { type: 'ReactivateTenant', tenantId: each.id });
      } else if (step % 61 === 7) {
        await run(tenant, { type: 'RenameTenant', tenantId, name: `Renamed ${step}`, nameReservation: step });
      } else if (step % 83 === 11) {
        await run(tenant, {
          type: 'SetTenantQuotas',
          tenantId,
          quotas: { maxWorkspaces: 10_000, maxDepth: step % 2 === 0 ? 50 : null },
        });
      } else if (step % 41 === 5) {
        // Members leave, and some have their personal data erased before or after.
        const members = [...tenant.state.membership.members.keys()];
        const userId = members.length > 0 ? pick(members) : undefined;
        if (userId !== undefined) {
          await run(tenant, { type: 'ErasePersonalData', tenantId, userId });
          if (random() < 0.5) await run(tenant, { type: 'RemoveMember', tenantId, userId });
        }
      }
      if (step === 600) await run(tenants[0]!, { type: 'DeleteTenant', tenantId: tenants[0]!.id });
    }
    // The deleted tenant's cascade runs to its end; the others' cascades stay wherever they are.
    for (let i = 0; i < 100 && tenants[0]!.state.status !== 'deleted'; i++) {
      await run(tenants[0]!, { type: 'ContinueDeletion', tenantId: tenants[0]!.id, maxBatch: 7 });
    }

    log = [];
    let after: Position | undefined;
    for (;;) {
      const page = await store.readAll({ after, maxCount: 500, filter: { streamPrefixes: ['tenant-'] } });
      log.push(...page.events);
      after = page.nextPosition;
      if (page.isEnd) break;
    }
  }, 120_000);
  afterAll(async () => {
    client.release();
    await store.close();
    await database.drop();
  });

  const freshSchema = async (): Promise<string> => {
    const schema = `set_based_${++schemas}`;
    await client.query('SELECT rm_create_schema($1)', [schema]);
    return schema;
  };

  /**
   * The set-based form, as the live projectors run it (a prepared statement per projection), even
   * for a batch of one event, for which they choose the per-event statements.
   */
  const setBased = (projection: Projection, batch: readonly RecordedEvent[]): Promise<void> =>
    applyProjection(client, projection, batch, 'set-based');
  /** The per-event statements: the reference. */
  const perEvent = async (projection: Projection, batch: readonly RecordedEvent[]): Promise<void> => {
    const text = perEventProjectionSql(projection, batch);
    if (text) await client.query(text);
  };

  /** Applies the events in batches of `size`, each batch in a transaction of its own. */
  const applyInBatches = async (
    schema: string,
    events: readonly RecordedEvent[],
    size: number,
    apply: typeof setBased,
  ): Promise<void> => {
    for (let start = 0; start < events.length; start += size) {
      const batch = events.slice(start, start + size);
      await inTransaction(
        client,
        async () => {
          for (const projection of READ_MODEL_PROJECTIONS) await apply(projection, batch);
        },
        `BEGIN; ${enterReadModelSchemaSql(schema)}`,
      );
    }
  };

  const differences = (comparisons: readonly TableComparison[]) =>
    comparisons.filter((table) => table.onlyLeft > 0 || table.onlyRight > 0);

  let reference: string;
  beforeAll(async () => {
    reference = await freshSchema();
    await applyInBatches(reference, log, 100, perEvent);
  }, 60_000);

  it('the log holds every kind of change the projections handle', () => {
    const types = new Set(log.map((event) => event.type));
    expect([...types].sort()).toEqual(
      [
        'ApiKeyIssued',
        'ApiKeyRevoked',
        'MemberAdded',
        'MemberRemoved',
        'MemberUpdated',
        'PersonalDataErased',
        'RoleGranted',
        'RoleRevoked',
        'TenantCreated',
        'TenantDeleted',
        'TenantDeletionStarted',
        'TenantQuotasSet',
        'TenantReactivated',
        'TenantRenamed',
        'TenantSuspended',
        'WorkspaceCreated',
        'WorkspaceDeleted',
        'WorkspaceDeletionStarted',
        'WorkspaceMoved',
        'WorkspaceRenamed',
      ].sort(),
    );
    expect(log.length).toBeGreaterThan(500);
  });

  it('the per-event reference shows deletions under way and a deleted tenant', async () => {
    const { rows } = await client.query<{ deleting: number; deleted: number; done: number }>(
      `SELECT (SELECT count(*)::int FROM ${reference}.workspaces WHERE status = 'deleting') AS deleting,
              (SELECT count(*)::int FROM ${reference}.tenants WHERE status = 'deleted') AS deleted,
              (SELECT coalesce(max(deletion_done), 0)::int FROM ${reference}.workspaces) AS done`,
    );
    expect(rows[0]?.deleting).toBeGreaterThan(0);
    expect(rows[0]?.deleted).toBe(1);
    expect(rows[0]?.done).toBeGreaterThan(0);
  });

  it.each([1, 3, 17, 250, 100_000])(
    'batches of %i events give exactly the rows of the per-event path',
    async (size) => {
      const schema = await freshSchema();
      await applyInBatches(schema, log, size, setBased);
      expect(differences(await compareReadModels(client, reference, schema))).toEqual([]);
    },
  );

  it('the per-event reference shows moved subtrees below their new parents', async () => {
    // Every moved workspace's descendants carry its new path: depth and path agree with the parent links.
    const { rows } = await client.query<{ moved: number; mismatched: number }>(
      `SELECT (SELECT count(*)::int FROM ${reference}.workspaces w
                 JOIN ${reference}.workspaces p ON p.tenant_id = w.tenant_id AND p.workspace_id = w.parent_workspace_id
                WHERE w.path <> p.path || w.workspace_id OR w.depth <> p.depth + 1) AS mismatched,
              (SELECT count(*)::int FROM ${reference}.workspaces w
                WHERE EXISTS (SELECT 1 FROM ${reference}.workspaces d
                               WHERE d.tenant_id = w.tenant_id AND d.path @> ARRAY[w.workspace_id]
                                 AND d.workspace_id <> w.workspace_id)
                  AND w.workspace_id = ANY ($1::uuid[])) AS moved`,
      [
        log
          .filter((event) => event.type === 'WorkspaceMoved')
          .map((event) => (event.data as { workspaceId: string }).workspaceId),
      ],
    );
    expect(rows[0]?.mismatched).toBe(0);
    expect(rows[0]?.moved).toBeGreaterThan(0);
  });

  it('the bulk-load rebuild gives exactly the rows of the per-event path', async () => {
    const schema = `set_based_rebuild_${++schemas}`;
    await rebuildReadModels({ store, client, schema, batchSize: 211, chunkSize: 97 });
    expect(differences(await compareReadModels(client, reference, schema))).toEqual([]);
  });

  it('loaded on a connection per projection and finished two steps at a time, it gives the same rows', async () => {
    const schema = `set_based_rebuild_${++schemas}`;
    const connect = jest.spyOn(database.pool, 'connect');
    try {
      await rebuildReadModels({ store, client, schema, batchSize: 211, chunkSize: 97, pool: database.pool });
      // One more connection per other projection while loading, and one for the finish. (The
      // store's reads go through pool.query, which calls connect with a callback: not counted.)
      const taken = connect.mock.calls.filter((call: unknown[]) => call[0] === undefined).length;
      expect(taken).toBe(READ_MODEL_PROJECTIONS.length);
    } finally {
      connect.mockRestore();
    }
    expect(differences(await compareReadModels(client, reference, schema))).toEqual([]);
  });

  it('reads one page before its first chunk, then doubles its chunks up to their size, with the same rows', async () => {
    const schema = `set_based_rebuild_${++schemas}`;
    const reported: number[] = [];
    await rebuildReadModels({
      store,
      client,
      schema,
      batchSize: 10,
      chunkSize: 80,
      pool: database.pool,
      onProgress: (progress) => reported.push(progress.events),
    });
    const chunks = reported.map((events, index) => events - (reported[index - 1] ?? 0));
    expect(chunks.slice(0, 4)).toEqual([10, 20, 40, 80]);
    expect(chunks.slice(4, -1).every((size) => size === 80)).toBe(true);
    expect(reported[reported.length - 1]).toBe(log.length);
    expect(differences(await compareReadModels(client, reference, schema))).toEqual([]);
  });

  it('stopped between chunks by its signal, the rebuild resumes where it stopped and gives the same rows', async () => {
    const schema = `set_based_rebuild_${++schemas}`;
    const stop = new AbortController();
    await startRebuild(client, schema);
    const first = await resumeRebuild({
      store,
      client,
      schema,
      batchSize: 211,
      chunkSize: 97,
      signal: stop.signal,
      onProgress: (progress) => {
        if (progress.events >= 300) stop.abort();
      },
    });
    // While it loads, autovacuum leaves the tables alone; the finish gives them back, with statistics.
    const tableState = async () =>
      (
        await client.query<{ relname: string; reloptions: string[] | null; stats: number }>(
          `SELECT c.relname, c.reloptions,
             (SELECT count(*)::int FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname) AS stats
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = $1 AND c.relname IN ('workspaces', 'audit_log', 'members') ORDER BY c.relname`,
          [schema],
        )
      ).rows;
    expect((await tableState()).map((table) => table.reloptions)).toEqual([
      ['autovacuum_enabled=false'],
      ['autovacuum_enabled=false'],
      ['autovacuum_enabled=false'],
    ]);
    const rest = await resumeRebuild({ store, client, schema, batchSize: 211, chunkSize: 97 });
    await finishRebuild(client, schema);
    for (const table of await tableState()) {
      expect(table.reloptions).toBeNull();
      expect(table.stats).toBeGreaterThan(0);
    }
    const before = first.get(tenancyReadModelProjection.name) ?? 0;
    const after = rest.get(tenancyReadModelProjection.name) ?? 0;
    expect(before).toBeGreaterThanOrEqual(300);
    expect(after).toBeGreaterThan(0);
    expect(differences(await compareReadModels(client, reference, schema))).toEqual([]);
  });

  it('delivered again, in overlapping batches, the set-based form changes nothing', async () => {
    const schema = await freshSchema();
    const half = Math.floor(log.length / 2);
    await applyInBatches(schema, log.slice(0, half), 40, setBased);
    await applyInBatches(schema, log.slice(half - 90, half + 60), 50, setBased);
    await applyInBatches(schema, log, 333, setBased);
    expect(differences(await compareReadModels(client, reference, schema))).toEqual([]);
  });

  it('names with quotes, backslashes, braces, commas and the word NULL arrive as written', async () => {
    const schema = await freshSchema();
    const tenantId = randomUUID();
    const root = rootWorkspaceIdOf(tenantId);
    const names = [
      'NULL',
      'a "quoted" name',
      'back\\slash \\"',
      "it's {a,b}",
      'tab\tand\nnewline',
      'ünïcødé ✓',
    ];
    const events: RecordedEvent[] = [
      { type: 'TenantCreated', data: { tenantId, name: 'NULL' } },
      {
        type: 'WorkspaceCreated',
        data: { tenantId, workspaceId: root, parentWorkspaceId: null, name: 'Root', isRoot: true },
      },
      ...names.map((name) => ({
        type: 'WorkspaceCreated',
        data: { tenantId, workspaceId: randomUUID(), parentWorkspaceId: root, name, isRoot: false },
      })),
    ].map((event, revision) => ({
      ...event,
      id: randomUUID(),
      streamName: tenantStreamName(tenantId),
      revision,
      position: `0000000000000002-${String(revision).padStart(16, '0')}` as Position,
      recordedAt: new Date(),
      metadata: { actor: 'a "quoted" \\ actor', correlationId: 'NULL', causationId: '{}' },
    }));
    await applyInBatches(schema, events, 100, setBased);
    const { rows } = await client.query<{ name: string }>(
      `SELECT name FROM ${schema}.workspaces WHERE tenant_id = $1 AND NOT is_root ORDER BY revision`,
      [tenantId],
    );
    expect(rows.map((row) => row.name)).toEqual(names);
    const { rows: tenants } = await client.query<{ name: string }>(
      `SELECT name FROM ${schema}.tenants WHERE tenant_id = $1`,
      [tenantId],
    );
    expect(tenants[0]?.name).toBe('NULL');
    const { rows: audit } = await client.query<{
      actor: string;
      correlation_id: string;
      causation_id: string;
    }>(`SELECT DISTINCT actor, correlation_id, causation_id FROM ${schema}.audit_log WHERE tenant_id = $1`, [
      tenantId,
    ]);
    expect(audit).toEqual([{ actor: 'a "quoted" \\ actor', correlation_id: 'NULL', causation_id: '{}' }]);
  });

  it('refuses a batch that deletes a parent before its child, as the per-event form does', async () => {
    const schema = await freshSchema();
    const tenantId = randomUUID();
    const root = rootWorkspaceIdOf(tenantId);
    const [parent, child] = [randomUUID(), randomUUID()];
    const at = { recordedAt: new Date(), metadata: {} };
    const event = (revision: number, type: string, data: Record<string, unknown>): RecordedEvent => ({
      id: randomUUID(),
      type,
      data: { tenantId, ...data },
      streamName: tenantStreamName(tenantId),
      revision,
      position: `0000000000000001-${String(revision).padStart(16, '0')}` as Position,
      ...at,
    });
    const created = [
      event(0, 'TenantCreated', { name: 'Parent first' }),
      event(1, 'WorkspaceCreated', {
        workspaceId: root,
        parentWorkspaceId: null,
        name: 'Root',
        isRoot: true,
      }),
      event(2, 'WorkspaceCreated', {
        workspaceId: parent,
        parentWorkspaceId: root,
        name: 'P',
        isRoot: false,
      }),
      event(3, 'WorkspaceCreated', {
        workspaceId: child,
        parentWorkspaceId: parent,
        name: 'C',
        isRoot: false,
      }),
    ];
    await applyInBatches(schema, created, 10, setBased);
    const parentFirst = [
      event(4, 'WorkspaceDeleted', {
        workspaceId: parent,
        parentWorkspaceId: root,
        isRoot: false,
        reason: 'requested',
      }),
      event(5, 'WorkspaceDeleted', {
        workspaceId: child,
        parentWorkspaceId: parent,
        isRoot: false,
        reason: 'requested',
      }),
    ];
    await expect(applyInBatches(schema, parentFirst, 10, perEvent)).rejects.toThrow(/foreign key/);
    await expect(applyInBatches(schema, parentFirst, 10, setBased)).rejects.toThrow(
      /its child .* is still in the read model/,
    );
  });
});

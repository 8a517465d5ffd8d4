import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import type { Position } from '../../src/event-store/event-store.port.js';
import { exemptFromLogHorizon } from '../../src/database/log-horizon-exemptions.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { toEventToAppend } from '../../src/stored-events/event-metadata.js';
import { rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';
import type { TenancyEvent } from '../../src/tenancy/tenancy.events.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { dropReadModelSchema, resumeRebuild, startRebuild } from '../../projections/read-model.rebuild.js';
import { LogHorizonWatch } from '../../src/health/log-horizon.watch.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { Metrics } from '../../src/observability/metrics.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The log's readers stop below the oldest transaction still running, so that an event committing
 * late is never skipped (docs/adr/0002). A transaction declared exempt (a rebuild's chunk or index
 * build, which writes no event) is passed over; it may not append.
 */
describe('transactions exempt from the log horizon', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;

  const context = () => ({
    actor: 'test',
    correlationId: randomUUID(),
    causationId: randomUUID(),
    now: new Date(),
  });
  const append = (tenantId: string, events: readonly TenancyEvent[]) =>
    store.appendToStream(
      tenantStreamName(tenantId),
      events.map((event) => toEventToAppend(event, context())),
      'any',
    );
  const newTenant = (tenantId: string): TenancyEvent[] => [
    { type: 'TenantCreated', data: { tenantId, name: `Horizon ${tenantId}` } },
    {
      type: 'WorkspaceCreated',
      data: {
        tenantId,
        workspaceId: rootWorkspaceIdOf(tenantId),
        parentWorkspaceId: null,
        name: 'Root',
        isRoot: true,
      },
    },
  ];
  /** Whether a read of the log after `after` returns the event with this id. */
  const reads = async (after: Position | undefined, eventId: string): Promise<boolean> => {
    const page = await store.readAll({ ...(after === undefined ? {} : { after }), maxCount: 1_000 });
    return page.events.some((event) => event.id === eventId);
  };
  /** A transaction on its own connection that has taken a transaction id, left open. */
  const openWriteTransaction = async (): Promise<pg.PoolClient> => {
    const client = await database.pool.connect();
    await client.query('BEGIN');
    await client.query('SELECT pg_current_xact_id()');
    return client;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresEventStore(database.pool, database.url, { pollIntervalMs: 20 });
  });
  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  it('a running write transaction holds the log back until it is declared exempt', async () => {
    const head = await store.headPosition();
    const holder = await openWriteTransaction();
    try {
      const tenantId = randomUUID();
      await append(tenantId, newTenant(tenantId));
      const { rows } = await database.pool.query<{ id: string }>(
        'SELECT event_id::text AS id FROM events WHERE stream_name = $1 ORDER BY stream_revision LIMIT 1',
        [tenantStreamName(tenantId)],
      );
      const eventId = rows[0]!.id;
      expect(await reads(head, eventId)).toBe(false);
      // Readiness's watch names what holds the horizon back for longer than its threshold.
      const watch = new LogHorizonWatch(
        database.pool,
        { logHorizonThresholdMs: 1_000 } as AppConfig,
        new Metrics(),
      );
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      expect(await watch.check()).toMatchObject({ status: 'held' });

      await exemptFromLogHorizon(holder, database.pool);
      // Other test files' databases share the cluster, and so its oldest running transaction: a
      // short one of theirs may hold the horizon for a moment. This holder would hold it for good.
      await waitFor(() => reads(head, eventId), 5_000);
      await waitFor(async () => (await watch.check()).status === 'up', 5_000);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });

  it('an exempt transaction cannot append, through either append function', async () => {
    for (const fn of ['es_try_append', 'es_append']) {
      const holder = await openWriteTransaction();
      try {
        await exemptFromLogHorizon(holder, database.pool);
        await expect(
          holder.query(
            `SELECT * FROM ${fn}($1, 'any', ARRAY[gen_random_uuid()], ARRAY['TenantCreated'], ARRAY['{}'::jsonb], ARRAY['{}'::jsonb])`,
            [tenantStreamName(randomUUID())],
          ),
        ).rejects.toMatchObject({
          code: '55000',
          message: expect.stringContaining('exempt from the log horizon'),
        });
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
    }
  });

  it("a rebuild's chunk left waiting holds back neither the log's readers nor the appends after it", async () => {
    const schema = `horizon_rebuild_${randomUUID().slice(0, 8)}`;
    const first = randomUUID();
    await append(first, newTenant(first));
    const client = await database.pool.connect();
    const locker = await database.pool.connect();
    let rebuild: Promise<unknown> | undefined;
    try {
      await startRebuild(client, schema);
      // Each chunk moves its projection's checkpoint last, after it wrote its rows: it waits
      // here, within its transaction, holding a transaction id.
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${schema}.checkpoints IN EXCLUSIVE MODE`);
      rebuild = resumeRebuild({ store, client, schema, pool: database.pool });
      rebuild.catch(() => undefined);
      await waitFor(async () => {
        const { rows } = await database.pool.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND backend_xid IS NOT NULL`,
        );
        return (rows[0]?.waiting ?? 0) > 0;
      }, 10_000);

      const head = await store.headPosition();
      const second = randomUUID();
      await append(second, newTenant(second));
      const { rows } = await database.pool.query<{ id: string }>(
        'SELECT event_id::text AS id FROM events WHERE stream_name = $1 ORDER BY stream_revision LIMIT 1',
        [tenantStreamName(second)],
      );
      // Waited for (other databases' short transactions share the cluster's horizon); the chunk,
      // held until the end of this test, would hold it back for good.
      await waitFor(() => reads(head, rows[0]!.id), 5_000);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
      await rebuild?.catch(() => undefined);
      await dropReadModelSchema(client, schema);
      client.release();
    }
  }, 30_000);
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConsumerLag } from '../../src/consumers/consumer-lag.js';
import type { EventStore, Position, ReadAllOptions } from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { inTransaction } from '../../src/database/transaction.js';
import { LAG_COUNT_LIMIT, Metrics } from '../../src/observability/metrics.js';
import { enterReadModelSchema } from '../../projections/projection.applier.js';
import { moveReadModelCheckpoint } from '../../projections/read-model.checkpoints.js';
import { LIVE_READ_MODEL_SCHEMA, READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';
import { TENANT_STREAM_PREFIX } from '../../src/tenancy/tenant-stream.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The lag a metrics scrape reports, measured against a real log: right, and cheap however far the
 * consumers are behind (a scrape is what an operator looks at during a long catch-up).
 */
describe('consumer lag', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  /** Events the measurement was handed by log reads. */
  let eventsRead = 0;
  let lag: ConsumerLag;

  const appendTenantEvents = async (count: number): Promise<void> => {
    for (let done = 0; done < count; done += 500) {
      const size = Math.min(500, count - done);
      await store.appendToStream(
        `${TENANT_STREAM_PREFIX}${randomUUID()}`,
        Array.from({ length: size }, (_, i) => ({ type: 'LagProbe', data: { n: done + i } })),
        'no_stream',
      );
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresEventStore(database.pool, database.url);
    const counting: EventStore = Object.create(store) as EventStore;
    counting.readAll = async (options: ReadAllOptions) => {
      const page = await store.readAll(options);
      eventsRead += page.events.length;
      return page;
    };
    lag = new ConsumerLag(counting, database.pool, [], new Metrics());
    // Outside every consumer's filter: never counted.
    await store.appendToStream(`other-${randomUUID()}`, [{ type: 'Elsewhere', data: {} }], 'no_stream');
  });
  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  /** A minute from now: every unapplied event is at least that old when measured then. */
  const aMinuteOn = () => new Date(Date.now() + 60_000);
  const measure = async () => {
    eventsRead = 0;
    const samples = await lag.measure(aMinuteOn());
    return new Map(samples.map((sample) => [sample.consumer, sample]));
  };

  it('counts each projection from its stored checkpoint, reading only the oldest event it has yet to apply', async () => {
    await appendTenantEvents(2_500);
    const [tenancy, ...others] = READ_MODEL_PROJECTIONS.map((projection) => projection.name);
    // One projection has applied the first 2,000 tenant events.
    const log = await store.readAll({ maxCount: 2_000, filter: { streamPrefixes: [TENANT_STREAM_PREFIX] } });
    const applied = log.events[1_999]?.position as Position;
    const client = await database.pool.connect();
    try {
      await inTransaction(client, async () => {
        await enterReadModelSchema(client, LIVE_READ_MODEL_SCHEMA);
        expect(await moveReadModelCheckpoint(client, tenancy as string, undefined, applied)).toBe(true);
      });
    } finally {
      client.release();
    }

    const samples = await measure();
    expect(samples.get(tenancy as string)?.eventsBehind).toBe(500);
    for (const name of others) expect(samples.get(name)?.eventsBehind).toBe(2_500);
    for (const sample of samples.values()) {
      expect(sample.oldestUnappliedSeconds).toBeGreaterThanOrEqual(60);
      expect(sample.oldestUnappliedSeconds).toBeLessThan(120);
    }
    expect(samples.size).toBe(READ_MODEL_PROJECTIONS.length);
    // The oldest unapplied event of each, and nothing else.
    expect(eventsRead).toBe(READ_MODEL_PROJECTIONS.length);
  });

  it(`stops counting at ${LAG_COUNT_LIMIT} events behind`, async () => {
    await appendTenantEvents(LAG_COUNT_LIMIT - 2_500 + 10);
    const samples = await measure();
    for (const sample of samples.values()) {
      expect(sample.eventsBehind).toBe(
        sample.consumer === READ_MODEL_PROJECTIONS[0]?.name ? LAG_COUNT_LIMIT - 2_000 + 10 : LAG_COUNT_LIMIT,
      );
    }
    expect(eventsRead).toBe(READ_MODEL_PROJECTIONS.length);
  });

  it('reports a consumer that has applied everything as caught up, reading nothing', async () => {
    const head = (await store.headPosition()) as Position;
    const client = await database.pool.connect();
    try {
      await inTransaction(client, async () => {
        await enterReadModelSchema(client, LIVE_READ_MODEL_SCHEMA);
        for (const projection of READ_MODEL_PROJECTIONS) {
          const { rows } = await client.query<{ position: string }>(
            'SELECT position FROM checkpoints WHERE projection = $1',
            [projection.name],
          );
          const stored = rows[0]?.position as Position | undefined;
          expect(await moveReadModelCheckpoint(client, projection.name, stored, head)).toBe(true);
        }
      });
    } finally {
      client.release();
    }
    const samples = await measure();
    for (const sample of samples.values()) {
      expect(sample).toMatchObject({ eventsBehind: 0, oldestUnappliedSeconds: 0 });
    }
    expect(eventsRead).toBe(0);
  });
});

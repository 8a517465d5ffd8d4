import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import {
  CheckpointedConsumer,
  type BatchDelivery,
  type ConsumerOptions,
} from '../../src/consumers/checkpointed-consumer.js';
import { processCheckpoints } from '../../src/consumers/checkpoint-stores.js';
import { ConsumerHost } from '../../src/consumers/consumer-host.service.js';
import type { ProcessManager } from '../../src/consumers/process-manager.js';
import { ProjectionProgress } from '../../src/consumers/projection-progress.js';
import { loadConfig } from '../../src/config/app-config.js';
import { Metrics } from '../../src/observability/metrics.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

describe('checkpointed consumer', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresEventStore(database.pool, database.url);
  });
  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  const consumer = (
    name: string,
    stream: string,
    handle: ConsumerOptions['handle'],
    extra: Partial<ConsumerOptions> = {},
  ) =>
    new CheckpointedConsumer({
      name,
      filter: { streamPrefixes: [stream] },
      store,
      connectionString: database.url,
      checkpoints: processCheckpoints,
      handle,
      standbyRetryMs: 50,
      ...extra,
    });

  const checkpointOf = async (name: string) =>
    (
      await database.pool.query<{ position: string }>(
        'SELECT position FROM process_checkpoints WHERE process = $1',
        [name],
      )
    ).rows[0]?.position;

  const append = async (stream: string, types: string[]) => {
    let last;
    for (const type of types) last = await store.appendToStream(stream, [{ type, data: {} }], 'any');
    return last?.position;
  };

  /** Records what a consumer applied, in a table written in the consumer's own transaction. */
  const recordingHandler =
    (table: string) => async (client: pg.ClientBase, events: readonly RecordedEvent[]) => {
      for (const event of events)
        await client.query(`INSERT INTO ${table} (event_id) VALUES ($1)`, [event.id]);
    };

  it('applies every event once, in order, storing the checkpoint with the effect', async () => {
    const stream = `once-${randomUUID()}`;
    const table = `applied_${randomUUID().slice(0, 8)}`;
    await database.pool.query(`CREATE TABLE ${table} (n serial, event_id uuid UNIQUE)`);
    const last = await append(stream, ['A', 'B', 'C', 'D']);
    const first = consumer(`once-${stream}`, stream, recordingHandler(table));
    first.start();
    await waitFor(async () => (await checkpointOf(`once-${stream}`)) === last, 5000);
    await first.stop();
    // A second run from the stored checkpoint applies only what is new.
    const newer = await append(stream, ['E']);
    const second = consumer(`once-${stream}`, stream, recordingHandler(table));
    second.start();
    await waitFor(async () => (await checkpointOf(`once-${stream}`)) === newer, 5000);
    await second.stop();
    const { rows } = await database.pool.query<{ event_id: string }>(
      `SELECT event_id FROM ${table} ORDER BY n`,
    );
    const ids: string[] = [];
    for await (const event of store.readStream(stream)) ids.push(event.id);
    expect(rows.map((row) => row.event_id)).toEqual(ids);
  });

  it('a live consumer that finishes a batch takes everything appended meanwhile in its next one', async () => {
    const stream = `live-${randomUUID()}`;
    const name = `live-${stream}`;
    await append(stream, ['Start']);
    const batches: string[][] = [];
    const deliveries: BatchDelivery[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const live = consumer(
      name,
      stream,
      async (_client, events) => {
        batches.push(events.map((event) => event.type));
        // Busy with its first live batch while the next events arrive one by one.
        if (batches.length === 2) await held;
      },
      {
        onCommitted: (_position, _events, delivery) => {
          if (delivery) deliveries.push(delivery);
        },
      },
    );
    live.start();
    await waitFor(async () => batches.length === 1, 5000);
    await append(stream, ['First']);
    await waitFor(async () => batches.length === 2, 5000);
    const later = Array.from({ length: 8 }, (_, index) => `Later${index}`);
    for (const type of later) {
      await append(stream, [type]);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    release();
    await waitFor(async () => batches.flat().length === 2 + later.length, 5000);
    await live.stop();
    expect(batches).toEqual([['Start'], ['First'], later]);
    // Each live batch says when it was asked for, read and committed, in that order.
    expect(deliveries).toHaveLength(2);
    for (const delivery of deliveries) {
      expect(delivery.askedAt).toBeLessThanOrEqual(delivery.startedAt);
      expect(delivery.startedAt).toBeLessThanOrEqual(delivery.endedAt);
      expect(delivery.endedAt).toBeLessThanOrEqual(delivery.committedAt);
    }
  });

  it('says it is catching up while it applies what was written before it started, and caught up once it reached the end', async () => {
    const stream = `behind-${randomUUID()}`;
    const name = `behind-${stream}`;
    const last = await append(stream, ['A', 'B', 'C', 'D', 'E']);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let batches = 0;
    const behind = consumer(
      name,
      stream,
      async () => {
        if (++batches === 1) await held;
      },
      { batchSize: 2 },
    );
    behind.start();
    try {
      await waitFor(async () => batches === 1, 5000);
      expect(behind.status()).toMatchObject({ state: 'active', caughtUp: false });
      release();
      await waitFor(async () => (await checkpointOf(name)) === last, 5000);
      expect(behind.status().caughtUp).toBe(true);
      // Live from then on: what is appended later does not make it "behind" again.
      const later = await append(stream, ['F']);
      await waitFor(async () => (await checkpointOf(name)) === later, 5000);
      expect(behind.status().caughtUp).toBe(true);
    } finally {
      release();
      await behind.stop();
    }
  });

  it('a poison event is retried a bounded number of times, recorded, and never skipped', async () => {
    const stream = `poison-${randomUUID()}`;
    const name = `poison-${stream}`;
    const good = await append(stream, ['Good']);
    await append(stream, ['Poison', 'AfterPoison']);
    let attempts = 0;
    const poisoned = consumer(
      name,
      stream,
      async (_client, events) => {
        for (const event of events) {
          if (event.type === 'Poison') {
            attempts++;
            throw new Error('cannot project this');
          }
        }
      },
      { maxAttempts: 3 },
    );
    poisoned.start();
    await waitFor(async () => poisoned.status().state === 'failed', 15_000);
    // Three attempts on its own, after the failed attempt at the batch it arrived in.
    expect(attempts).toBe(4);
    expect(await checkpointOf(name)).toBe(good);
    expect(poisoned.status().failure).toMatch(/Poison.*cannot project this/);
    const failures = await database.pool.query(
      'SELECT event_type, attempts, error FROM process_failures WHERE process = $1',
      [name],
    );
    expect(failures.rows).toEqual([{ event_type: 'Poison', attempts: 3, error: 'cannot project this' }]);
    await poisoned.stop();
  });

  it('one that stopped on an event tries it again after a while, never skipping it, and carries on once it applies', async () => {
    const stream = `again-${randomUUID()}`;
    const name = `again-${stream}`;
    const table = `again_${randomUUID().slice(0, 8)}`;
    await database.pool.query(`CREATE TABLE ${table} (n serial, event_id uuid UNIQUE)`);
    const record = recordingHandler(table);
    let broken = true;
    let attempts = 0;
    const logs: string[] = [];
    const retrying = consumer(
      name,
      stream,
      async (client, events) => {
        if (events.some((event) => event.type === 'Broken')) {
          attempts++;
          if (broken) throw new Error('cannot project this yet');
        }
        await record(client, events);
      },
      { maxAttempts: 2, retryFailedAfterMs: 200, log: (level, message) => logs.push(`${level} ${message}`) },
    );
    const good = await append(stream, ['Good']);
    const last = await append(stream, ['Broken', 'After']);
    retrying.start();
    try {
      await waitFor(async () => retrying.status().state === 'failed', 10_000);
      // It goes on trying (a batch, then the event on its own twice, each time round).
      await waitFor(async () => attempts >= 9, 10_000);
      expect(await checkpointOf(name)).toBe(good);
      expect(retrying.status().failure).toMatch(/Broken.*cannot project this yet/);
      // The cause is fixed: it carries on by itself, and says so.
      broken = false;
      await waitFor(async () => (await checkpointOf(name)) === last, 10_000);
      expect(retrying.status()).toMatchObject({ state: 'active', failure: undefined });
      expect(logs).toContainEqual(
        expect.stringMatching(/^error .*stopped after 2 attempts at .*Broken.*; trying it again in 0\.2 s$/),
      );
      expect(logs).toContainEqual(
        expect.stringMatching(/^log .*: past \S+, where it had stopped \(applied it\)$/),
      );
      const { rows } = await database.pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM ${table}`,
      );
      expect(rows[0]?.count).toBe(3);
    } finally {
      await retrying.stop();
    }
  });

  it('one that stopped on an event and finds its checkpoint moved past it (a replay swapped in) no longer reports the failure, with nothing new to apply', async () => {
    const stream = `moved-${randomUUID()}`;
    const name = `moved-${stream}`;
    const stuck = consumer(
      name,
      stream,
      async (_client, events) => {
        if (events.some((event) => event.type === 'Broken')) throw new Error('cannot project this');
      },
      { maxAttempts: 2, retryFailedAfterMs: 200 },
    );
    await append(stream, ['Good']);
    const last = await append(stream, ['Broken']);
    stuck.start();
    try {
      await waitFor(async () => stuck.status().state === 'failed', 10_000);
      await database.pool.query('UPDATE process_checkpoints SET position = $2 WHERE process = $1', [
        name,
        last,
      ]);
      await waitFor(async () => stuck.status().failure === undefined, 10_000);
      expect(stuck.status().state).toBe('active');
    } finally {
      await stuck.stop();
    }
  });

  it('only one of several instances is active; when it stops, a standby takes over from its checkpoint', async () => {
    const stream = `leader-${randomUUID()}`;
    const name = `leader-${stream}`;
    const table = `leader_${randomUUID().slice(0, 8)}`;
    await database.pool.query(`CREATE TABLE ${table} (n serial, event_id uuid UNIQUE)`);
    const instances = [1, 2, 3].map(() => consumer(name, stream, recordingHandler(table)));
    instances.forEach((instance) => instance.start());
    await waitFor(
      async () => instances.filter((instance) => instance.status().state === 'active').length === 1,
      5000,
    );
    await waitFor(
      async () => instances.filter((instance) => instance.status().state === 'standby').length === 2,
      5000,
    );
    const first = await append(stream, ['A', 'B']);
    await waitFor(async () => (await checkpointOf(name)) === first, 5000);
    const leader = instances.find((instance) => instance.status().state === 'active') as CheckpointedConsumer;
    await leader.stop();
    const second = await append(stream, ['C']);
    await waitFor(async () => (await checkpointOf(name)) === second, 5000);
    expect(instances.filter((instance) => instance.status().state === 'active')).toHaveLength(1);
    for (const instance of instances) await instance.stop();
    // Unique event ids in the table: a duplicate application would have failed the insert.
    const { rows } = await database.pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM ${table}`,
    );
    expect(rows[0]?.count).toBe(3);
  });

  it('one that stopped on an event it cannot apply lets a standby that can (a newer version) take over there', async () => {
    const stream = `newer-${randomUUID()}`;
    const name = `newer-${stream}`;
    const table = `newer_${randomUUID().slice(0, 8)}`;
    await database.pool.query(`CREATE TABLE ${table} (n serial, event_id uuid UNIQUE)`);
    const record = recordingHandler(table);
    const older = consumer(
      name,
      stream,
      async (client, events) => {
        if (events.some((event) => event.type === 'FromNewer'))
          throw new Error('unknown event type FromNewer');
        await record(client, events);
      },
      { maxAttempts: 2, retryFailedAfterMs: 200 },
    );
    older.start();
    const newer = consumer(name, stream, record);
    try {
      await waitFor(async () => older.status().state === 'active', 5000);
      newer.start();
      await waitFor(async () => newer.status().state === 'standby', 5000);
      const last = await append(stream, ['A', 'FromNewer', 'B']);
      await waitFor(async () => (await checkpointOf(name)) === last, 10_000);
      expect(newer.status().state).toBe('active');
      // The older one, trying again, finds the event applied by the newer one: it no longer reports
      // a failure that is no longer there, and stands by.
      await waitFor(async () => older.status().failure === undefined, 10_000);
      expect(older.status().state).toBe('standby');
      const { rows } = await database.pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM ${table}`,
      );
      expect(rows[0]?.count).toBe(3);
    } finally {
      await older.stop();
      await newer.stop();
    }
  });

  const terminateBackendOf = async (name: string): Promise<number> =>
    (
      await database.pool.query<{ count: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS count FROM pg_stat_activity
         WHERE application_name = $1 AND pid <> pg_backend_pid()`,
        [`consumer:${name}`],
      )
    ).rowCount ?? 0;

  it('a terminated connection is not poison: it reconnects, takes the lock again and resumes from its checkpoint', async () => {
    const stream = `heal-${randomUUID()}`;
    const name = `heal-${stream}`;
    const table = `heal_${randomUUID().slice(0, 8)}`;
    await database.pool.query(`CREATE TABLE ${table} (n serial, event_id uuid UNIQUE)`);
    let slowOnce = true;
    const healing = consumer(
      name,
      stream,
      async (client, events) => {
        if (slowOnce && events.some((event) => event.type === 'Slow')) {
          // The connection is cut while this batch's transaction is open.
          slowOnce = false;
          await terminateBackendOf(name);
        }
        await recordingHandler(table)(client, events);
      },
      { maxAttempts: 2 },
    );
    healing.start();
    await append(stream, ['A']);
    await waitFor(async () => (await checkpointOf(name)) !== undefined, 5000);
    // Cut while idle, then while a batch is in flight.
    expect(await terminateBackendOf(name)).toBe(1);
    await append(stream, ['B']);
    const last = await append(stream, ['Slow', 'C']);
    await waitFor(async () => (await checkpointOf(name)) === last, 10_000);
    expect(healing.status()).toMatchObject({ state: 'active', failure: undefined });
    await healing.stop();
    const { rows } = await database.pool.query<{ event_id: string }>(
      `SELECT event_id FROM ${table} ORDER BY n`,
    );
    const ids: string[] = [];
    for await (const event of store.readStream(stream)) ids.push(event.id);
    expect(rows.map((row) => row.event_id)).toEqual(ids);
    const failures = await database.pool.query('SELECT 1 FROM process_failures WHERE process = $1', [name]);
    expect(failures.rowCount).toBe(0);
  });

  it('one that lost its lock to another holder while the log was quiet is standby and no longer says it is caught up', async () => {
    const stream = `ousted-${randomUUID()}`;
    const name = `ousted-${stream}`;
    const ousted = consumer(name, stream, async () => undefined);
    ousted.start();
    await append(stream, ['A']);
    await waitFor(async () => ousted.status().state === 'active' && ousted.status().caughtUp, 5000);
    // Another session (a second instance) takes the lock while this one reconnects.
    const rival = new pg.Client({ connectionString: database.url });
    await rival.connect();
    try {
      await waitFor(async () => {
        await terminateBackendOf(name);
        const { rows } = await rival.query<{ locked: boolean }>(
          `SELECT pg_try_advisory_lock(hashtext('tenancy-consumer'), hashtext($1)) AS locked`,
          [name],
        );
        return rows[0]?.locked === true;
      }, 5000);
      // Idle, it learns of the cut from its connection at once, not at its next batch, and
      // reconnects without waiting for one: on a quiet log that could be a long time.
      await waitFor(async () => ousted.status().state !== 'active', 2000);
      expect(ousted.status().caughtUp).toBe(false);
      await waitFor(async () => ousted.status().state === 'standby', 15_000);
      expect(ousted.status()).toMatchObject({ state: 'standby', caughtUp: false });
    } finally {
      await rival.end();
      await ousted.stop();
    }
  });

  it('a database that stays away longer than the attempts allow still marks nothing as poison', async () => {
    const stream = `away-${randomUUID()}`;
    const name = `away-${stream}`;
    let unavailableFor = 6;
    const applied: string[] = [];
    const waiting = consumer(
      name,
      stream,
      async (_client, events) => {
        if (unavailableFor > 0) {
          unavailableFor--;
          // What the pool a process manager's commands use reports while the server is down.
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
        }
        applied.push(...events.map((event) => event.type));
      },
      { maxAttempts: 2 },
    );
    waiting.start();
    const last = await append(stream, ['A']);
    await waitFor(async () => (await checkpointOf(name)) === last, 15_000);
    expect(applied).toEqual(['A']);
    expect(unavailableFor).toBe(0);
    expect(waiting.status().failure).toBeUndefined();
    await waiting.stop();
  });

  // A transaction gets its id at the checkpoint's write, and pg_stat_activity dates it from BEGIN:
  // one opened before a process manager's commands looked, to the log horizon watch, like a
  // transaction holding the whole log back for as long as those commands took (a 20 s cascade
  // deletion showed as 'held for 20.2 s': readiness degraded, the operator told to terminate it).
  it('a process manager holds no transaction open while its commands run', async () => {
    const stream = `acting-${randomUUID()}`;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let acting = false;
    const slow: ProcessManager = {
      name: `acting-${randomUUID().slice(0, 8)}`,
      filter: { streamPrefixes: [stream] },
      handle: async () => {
        acting = true;
        await held;
      },
    };
    const host = new ConsumerHost(
      database.url,
      loadConfig({}),
      store,
      [slow],
      new Metrics(),
      new ProjectionProgress(database.pool, store),
    );
    host.onApplicationBootstrap();
    try {
      const last = await append(stream, ['Started']);
      await waitFor(async () => acting, 5000);
      const { rows } = await database.pool.query<{ state: string }>(
        'SELECT state FROM pg_stat_activity WHERE application_name = $1',
        [`consumer:${slow.name}`],
      );
      expect(rows.map((row) => row.state)).toEqual(['idle']);
      release();
      await waitFor(async () => (await checkpointOf(slow.name)) === last, 5000);
    } finally {
      release();
      await host.onApplicationShutdown();
    }
  });
});

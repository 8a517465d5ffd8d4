import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  ConcurrencyError,
  type EventToAppend,
  type Position,
  type RecordedEvent,
} from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { runMigrations } from '../../src/database/migrations.js';
import { createPool } from '../../src/database/postgres-pool.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** Behaviour specific to the PostgreSQL adapter, beyond the shared contract. */
describe('PostgreSQL event store', () => {
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

  const appendInOpenTransaction = async (client: pg.Client, stream: string, n: number): Promise<number> => {
    await client.query('BEGIN');
    const { rows } = await client.query<{ global_position: string }>(
      `SELECT global_position::text FROM es_append($1, 'any', ARRAY[$2::uuid], ARRAY['Slow'], ARRAY[$3::jsonb], ARRAY['{}'::jsonb])`,
      [stream, randomUUID(), JSON.stringify({ n })],
    );
    return Number(rows[0]?.global_position);
  };

  describe('with a slow writer whose transaction commits after later ones', () => {
    it('delivers every event exactly once, in log order, across many writers and repetitions', async () => {
      const prefix = `slow${randomUUID().slice(0, 8)}-`;
      const start = await store.headPosition();
      const controller = new AbortController();
      const delivered: RecordedEvent[] = [];
      const consuming = (async () => {
        for await (const event of store.subscribe({
          from: start ?? 'start',
          filter: { streamPrefixes: [prefix] },
          signal: controller.signal,
        })) {
          delivered.push(event);
        }
      })();

      const repetitions = 5;
      const writers = 20;
      let expectedCount = 0;
      for (let round = 0; round < repetitions; round++) {
        const slow = new pg.Client({ connectionString: database.url });
        await slow.connect();
        try {
          const slowSequenceValue = await appendInOpenTransaction(slow, `${prefix}slow-${round}`, round);
          // Writers that take later sequence values and commit while the slow one is still open.
          const results = await Promise.all(
            Array.from({ length: writers }, (_, w) =>
              store.appendToStream(
                `${prefix}fast-${round}-${w}`,
                [1, 2, 3].map((n) => ({ type: 'Fast', data: { round, w, n } })),
                'no_stream',
              ),
            ),
          );
          const fastSequenceValues = await database.pool.query<{ max: number }>(
            `SELECT max(global_position) AS max FROM events WHERE stream_name LIKE $1`,
            [`${prefix}fast-${round}-%`],
          );
          // The race really happened: later sequence values were committed first.
          expect(Number(fastSequenceValues.rows[0]?.max)).toBeGreaterThan(slowSequenceValue);
          expect(results).toHaveLength(writers);
          // Give the subscriber every chance to run ahead of the open transaction.
          await new Promise((resolve) => setTimeout(resolve, 60));
          const rollBack = round === repetitions - 1;
          await slow.query(rollBack ? 'ROLLBACK' : 'COMMIT');
          expectedCount += writers * 3 + (rollBack ? 0 : 1);
        } finally {
          await slow.end();
        }
      }

      const deadline = Date.now() + 10_000;
      while (delivered.length < expectedCount && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.abort();
      await consuming;

      const committed = await database.pool.query<{ event_id: string }>(
        `SELECT event_id FROM events WHERE stream_name LIKE $1 ORDER BY transaction_id, global_position`,
        [`${prefix}%`],
      );
      const deliveredIds = delivered.map((event) => event.id);
      expect(new Set(deliveredIds).size).toBe(deliveredIds.length);
      expect(deliveredIds).toEqual(committed.rows.map((row) => row.event_id));
      expect(deliveredIds).toHaveLength(expectedCount);
      expect(delivered.filter((event) => event.type === 'Slow')).toHaveLength(repetitions - 1);
    });

    it('a reader that resumes from its last position after every page never skips the late commit', async () => {
      const prefix = `resume${randomUUID().slice(0, 8)}-`;
      let checkpoint = await store.headPosition();
      const seen: string[] = [];
      const readNewPages = async (): Promise<void> => {
        for (;;) {
          const page = await store.readAll({
            after: checkpoint,
            maxCount: 3,
            filter: { streamPrefixes: [prefix] },
          });
          seen.push(...page.events.map((event) => event.id));
          checkpoint = page.nextPosition ?? checkpoint;
          if (page.isEnd) return;
        }
      };
      const slow = new pg.Client({ connectionString: database.url });
      await slow.connect();
      try {
        await appendInOpenTransaction(slow, `${prefix}slow`, 0);
        await store.appendToStream(`${prefix}fast`, [{ type: 'Fast', data: {} }], 'no_stream');
        await readNewPages();
        await slow.query('COMMIT');
      } finally {
        await slow.end();
      }
      await readNewPages();
      const committed = await database.pool.query<{ event_id: string }>(
        `SELECT event_id FROM events WHERE stream_name LIKE $1 ORDER BY transaction_id, global_position`,
        [`${prefix}%`],
      );
      expect(seen).toEqual(committed.rows.map((row) => row.event_id));
      expect(seen).toHaveLength(2);
    });
    it('the last position is that of a commit readers cannot reach yet; the head stays below the open transaction', async () => {
      const prefix = `last${randomUUID().slice(0, 8)}-`;
      const slow = new pg.Client({ connectionString: database.url });
      await slow.connect();
      try {
        await appendInOpenTransaction(slow, `${prefix}slow`, 0);
        const { position } = await store.appendToStream(
          `${prefix}fast`,
          [{ type: 'Fast', data: {} }],
          'no_stream',
        );
        expect(await store.lastPosition()).toBe(position);
        const head = (await store.headPosition()) as Position;
        expect(store.comparePositions(head, position)).toBeLessThan(0);
        await slow.query('COMMIT');
      } finally {
        await slow.end();
      }
    });
  });

  it('a 1,000-event append that fails on its last event leaves nothing behind', async () => {
    const stream = `poison-${randomUUID()}`;
    const events: EventToAppend[] = Array.from({ length: 1000 }, (_, i) => ({ type: 'Bulk', data: { i } }));
    // jsonb cannot hold the NUL character: PostgreSQL rejects the statement at the last row.
    events[999] = { type: 'Bulk', data: { i: 999, text: 'nul \u0000 here' } };
    await expect(store.appendToStream(stream, events, 'no_stream')).rejects.toThrow();
    expect(await store.streamRevision(stream)).toBeUndefined();
    const { rows } = await database.pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM events WHERE stream_name = $1',
      [stream],
    );
    expect(rows[0]?.count).toBe(0);
  });

  it('a conflict costs no connection: contended writers keep the pool they started with', async () => {
    // 16 writers on 4 streams, each with an exact expected revision and a retry on conflict.
    const pool = createPool({ connectionString: database.url, max: 4 });
    let opened = 0;
    pool.on('connect', () => {
      opened += 1;
    });
    const contended = new PostgresEventStore(pool, database.url);
    const streams = Array.from({ length: 4 }, () => `contended-${randomUUID()}`);
    let conflicts = 0;
    try {
      await Promise.all(
        Array.from({ length: 16 }, async (_, writer) => {
          const stream = streams[writer % streams.length] as string;
          for (let appended = 0; appended < 10;) {
            const revision = await contended.streamRevision(stream);
            try {
              await contended.appendToStream(
                stream,
                [{ type: 'A', data: { writer } }],
                revision ?? 'no_stream',
              );
              appended += 1;
            } catch (error) {
              if (!(error instanceof ConcurrencyError)) throw error;
              conflicts += 1;
            }
          }
        }),
      );
      expect(conflicts).toBeGreaterThan(10);
      expect(opened).toBeLessThanOrEqual(4);
      for (const stream of streams) expect(await contended.streamRevision(stream)).toBe(39);
    } finally {
      await contended.close();
      await pool.end();
    }
  });

  /** How many transactions wrote the streams' events. */
  const transactionsOf = async (streams: readonly string[]): Promise<number> => {
    const { rows } = await database.pool.query<{ transactions: number }>(
      'SELECT count(DISTINCT transaction_id)::int AS transactions FROM events WHERE stream_name = ANY($1)',
      [streams],
    );
    return rows[0]?.transactions ?? 0;
  };

  describe('appends made while others are under way (group commit)', () => {
    /** A store of its own, and a session holding the stream rows of `held` until `release`. */
    const withHeldAppends = async (
      work: (
        batched: PostgresEventStore,
        holding: { appends: Promise<unknown>[]; release(): Promise<void> },
      ) => Promise<void>,
    ): Promise<void> => {
      const pool = createPool({ connectionString: database.url, max: 8 });
      const batched = new PostgresEventStore(pool, database.url);
      const held = [`held-${randomUUID()}`, `held-${randomUUID()}`];
      for (const stream of held) await batched.appendToStream(stream, [{ type: 'A', data: {} }], 'no_stream');
      const locker = new pg.Client({ connectionString: database.url });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT 1 FROM event_streams WHERE stream_name = ANY($1) FOR UPDATE', [held]);
        // The two statements the store may have under way, each waiting for a row the locker holds.
        const appends = held.map((stream) => batched.appendToStream(stream, [{ type: 'B', data: {} }], 0));
        await waitForLockWaiters(2);
        await work(batched, {
          appends,
          release: async () => {
            await locker.query('COMMIT');
            await Promise.all(appends);
          },
        });
      } finally {
        await locker.end();
        await batched.close();
        await pool.end();
      }
    };
    const waitForLockWaiters = async (count: number): Promise<void> => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const { rows } = await database.pool.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if ((rows[0]?.waiting ?? 0) >= count) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`fewer than ${count} sessions waited for a lock`);
    };

    it('share one transaction, each with its own revision and the position of its own last event', async () => {
      await withHeldAppends(async (batched, holding) => {
        const streams = Array.from({ length: 20 }, (_, i) => `together-${i}-${randomUUID()}`);
        const ids = streams.map(() => [randomUUID(), randomUUID()]);
        const results = streams.map((stream, i) =>
          batched.appendToStream(
            stream,
            (ids[i] as string[]).map((id) => ({ id, type: 'T', data: { i } })),
            'no_stream',
          ),
        );
        await holding.release();
        const appended = await Promise.all(results);
        expect(await transactionsOf(streams)).toBe(1);
        for (const [i, stream] of streams.entries()) {
          const events = [];
          for await (const event of store.readStream(stream)) events.push(event);
          expect(events.map((event) => event.id)).toEqual(ids[i]);
          expect(appended[i]).toEqual({ nextExpectedRevision: 1, position: events[1]?.position });
        }
      });
    });

    it('a failed expectation fails its own append alone', async () => {
      await withHeldAppends(async (batched, holding) => {
        const streams = Array.from({ length: 6 }, (_, i) => `expect-${i}-${randomUUID()}`);
        const results = streams.map((stream, i) =>
          batched.appendToStream(stream, [{ type: 'T', data: { i } }], i === 3 ? 5 : 'no_stream'),
        );
        await holding.release();
        const outcomes = await Promise.allSettled(results);
        expect(outcomes.map((outcome) => outcome.status)).toEqual([
          'fulfilled',
          'fulfilled',
          'fulfilled',
          'rejected',
          'fulfilled',
          'fulfilled',
        ]);
        expect((outcomes[3] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
        expect(await transactionsOf(streams)).toBe(1);
      });
    });

    it('an error in the shared statement fails the append at fault alone; the others are written', async () => {
      await withHeldAppends(async (batched, holding) => {
        const streams = Array.from({ length: 6 }, (_, i) => `fault-${i}-${randomUUID()}`);
        const taken = randomUUID();
        // Through the other store: the two statements this one may have under way are held.
        await store.appendToStream(
          `taken-${randomUUID()}`,
          [{ id: taken, type: 'T', data: {} }],
          'no_stream',
        );
        const results = streams.map((stream, i) =>
          batched.appendToStream(
            stream,
            [{ id: i === 2 ? taken : randomUUID(), type: 'T', data: { i } }],
            'no_stream',
          ),
        );
        await holding.release();
        const outcomes = await Promise.allSettled(results);
        expect(outcomes.map((outcome) => outcome.status)).toEqual([
          'fulfilled',
          'fulfilled',
          'rejected',
          'fulfilled',
          'fulfilled',
          'fulfilled',
        ]);
        expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
        for (const [i, stream] of streams.entries())
          expect(await store.streamRevision(stream)).toBe(i === 2 ? undefined : 0);
      });
    });

    it('a shared statement whose connection is terminated fails every append in it; nothing of them is written', async () => {
      const blocked = `blocked-${randomUUID()}`;
      await store.appendToStream(blocked, [{ type: 'T', data: {} }], 'no_stream');
      const streams = [blocked, ...Array.from({ length: 3 }, (_, i) => `cut-${i}-${randomUUID()}`)];
      const second = new pg.Client({ connectionString: database.url });
      await second.connect();
      try {
        await second.query('BEGIN');
        await second.query('SELECT 1 FROM event_streams WHERE stream_name = $1 FOR UPDATE', [blocked]);
        await withHeldAppends(async (batched, holding) => {
          const results = streams.map((stream, i) =>
            batched.appendToStream(stream, [{ type: 'T', data: { i } }], 'any'),
          );
          await holding.release();
          // The four went together and wait for the row the second session holds: cut them off.
          let statement: number | undefined;
          for (let attempt = 0; attempt < 200 && statement === undefined; attempt++) {
            const { rows } = await database.pool.query<{ pid: number }>(
              `SELECT pid FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%es_try_append_batch%'`,
            );
            statement = rows[0]?.pid;
            if (statement === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
          }
          expect(statement).toBeDefined();
          await database.pool.query('SELECT pg_terminate_backend($1)', [statement]);
          const outcomes = await Promise.allSettled(results);
          expect(outcomes.map((outcome) => outcome.status)).toEqual(streams.map(() => 'rejected'));
          await second.query('ROLLBACK');
          expect(await store.streamRevision(blocked)).toBe(0);
          for (const stream of streams.slice(1)) expect(await store.streamRevision(stream)).toBeUndefined();
          // The store goes on with a new connection.
          await expect(
            batched.appendToStream(streams[1] as string, [{ type: 'T', data: {} }], 'no_stream'),
          ).resolves.toMatchObject({
            nextExpectedRevision: 0,
          });
        });
      } finally {
        await second.end();
      }
    });
  });

  it('32 writers on 6 streams, batched together in any order: each append answered with its own revision and position', async () => {
    const pool = createPool({ connectionString: database.url, max: 8 });
    const batched = new PostgresEventStore(pool, database.url);
    const streams = Array.from({ length: 6 }, (_, i) => `shared-${i}-${randomUUID()}`);
    const answers = new Map<string, { stream: string; revision: number; position: Position }>();
    try {
      await Promise.all(
        Array.from({ length: 32 }, async (_, writer) => {
          for (let n = 0; n < 15; n++) {
            const stream = streams[(writer * 7 + n * 5) % streams.length] as string;
            const id = randomUUID();
            const result = await batched.appendToStream(
              stream,
              [{ id, type: 'S', data: { writer, n } }],
              'any',
            );
            answers.set(id, { stream, revision: result.nextExpectedRevision, position: result.position });
          }
        }),
      );
      expect(answers.size).toBe(32 * 15);
      const written = new Map<string, { stream: string; revision: number; position: Position }>();
      for (const stream of streams)
        for await (const event of store.readStream(stream))
          written.set(event.id, { stream, revision: event.revision, position: event.position });
      expect(written).toEqual(answers);
      expect(await transactionsOf(streams)).toBeLessThan(32 * 15);
    } finally {
      await batched.close();
      await pool.end();
    }
  });

  it('wakes a subscriber in another process through LISTEN/NOTIFY', async () => {
    // A second store on its own pool stands for another service instance: only a notification
    // can wake it before its (long) polling interval.
    const otherPool = createPool({ connectionString: database.url, max: 2 });
    const other = new PostgresEventStore(otherPool, database.url, { pollIntervalMs: 10_000 });
    const stream = `notify-${randomUUID()}`;
    const controller = new AbortController();
    try {
      const iterator = other
        .subscribe({ from: 'end', filter: { streamPrefixes: [stream] }, signal: controller.signal })
        [Symbol.asyncIterator]();
      const next = iterator.next();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const appendedAt = Date.now();
      await store.appendToStream(stream, [{ type: 'A', data: {} }], 'no_stream');
      const received = await next;
      expect(received.done).toBe(false);
      expect(Date.now() - appendedAt).toBeLessThan(2_000);
    } finally {
      controller.abort();
      await other.close();
      await otherPool.end();
    }
  });

  describe('a reader woken while another append of its process is under way', () => {
    /**
     * A store whose woken readers may wait up to `settleMs` for appends under way; an append of it
     * to a stream whose row a transaction left open holds (so the append stays under way until
     * that transaction ends); and a reader, at the end of the log, woken by a second append.
     */
    const wokenWhileAnAppendWaits = async (settleMs: number) => {
      const pool = createPool({ connectionString: database.url, max: 4 });
      const local = new PostgresEventStore(pool, database.url, {
        pollIntervalMs: 60_000,
        wakeSettleMs: settleMs,
      });
      const blocked = `settle-blocked-${randomUUID()}`;
      const head = await local.headPosition();
      const page = await local.readAll({ ...(head ? { after: head } : {}), maxCount: 10 });
      expect(page.isEnd).toBe(true);
      const holder = new pg.Client({ connectionString: database.url });
      await holder.connect();
      await appendInOpenTransaction(holder, blocked, 0);
      const underWay = local.appendToStream(blocked, [{ type: 'A', data: {} }], 'any');
      // The append reaches PostgreSQL and waits there for the holder's lock.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const controller = new AbortController();
      let wokeAt: number | undefined;
      const reader = local.waitForMore(page, controller.signal).then((woken) => {
        wokeAt = performance.now();
        return woken;
      });
      await local.appendToStream(`settle-other-${randomUUID()}`, [{ type: 'A', data: {} }], 'no_stream');
      const release = async () => {
        await holder.query('COMMIT');
        const releasedAt = performance.now();
        await underWay;
        return releasedAt;
      };
      const close = async () => {
        controller.abort();
        await holder.end().catch(() => undefined);
        await local.close();
        await pool.end();
      };
      return { reader, release, woke: () => wokeAt, close };
    };

    it('reads as soon as that append lands, not after a fixed wait', async () => {
      const woken = await wokenWhileAnAppendWaits(10_000);
      try {
        await new Promise((resolve) => setTimeout(resolve, 300));
        // Still waiting: the append it waits for has not landed.
        expect(woken.woke()).toBeUndefined();
        const releasedAt = await woken.release();
        expect(await woken.reader).toBe(true);
        // Within moments of the append landing; a fixed wait would have taken the whole 10 s.
        expect((woken.woke() as number) - releasedAt).toBeLessThan(1_000);
      } finally {
        await woken.close();
      }
    });

    it('waits for it no longer than the settle time', async () => {
      const woken = await wokenWhileAnAppendWaits(200);
      try {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        // Woken while the append it might have waited for is still held.
        expect(woken.woke()).toBeDefined();
        expect(await woken.reader).toBe(true);
        await woken.release();
      } finally {
        await woken.close();
      }
    });
  });

  it('ends a transaction left idle, so it cannot hold back the log for long', async () => {
    const pool = createPool({ connectionString: database.url, max: 1 });
    try {
      const { rows } = await pool.query<{ idle: string; statement: string }>(
        `SELECT current_setting('idle_in_transaction_session_timeout') AS idle, current_setting('statement_timeout') AS statement`,
      );
      expect(rows[0]).toEqual({ idle: '10s', statement: '30s' });
    } finally {
      await pool.end();
    }
  });

  it('the head is the last event appended, also once transaction ids gain a digit', async () => {
    // Transaction ids of a fresh test database sit in the hundreds; 1,100 appends carry them past
    // 1,000, where comparing them as text instead of numbers would go wrong.
    const stream = `head-${randomUUID()}`;
    let last: Position | undefined;
    for (let i = 0; i < 1100; i++) {
      last = (await store.appendToStream(stream, [{ type: 'A', data: { i } }], 'any')).position;
      if (i % 100 === 99) expect(await store.headPosition()).toBe(last);
    }
    const { rows } = await database.pool.query<{ txid: string }>(
      'SELECT max(transaction_id)::text AS txid FROM events',
    );
    expect(Number(rows[0]?.txid)).toBeGreaterThan(1000);
  });

  it('gives each event the time it was recorded, to the millisecond, from the log and from its stream', async () => {
    const stream = `recorded-${randomUUID()}`;
    await store.appendToStream(stream, [{ type: 'A', data: {} }], 'no_stream');
    // A time with a fraction of a millisecond past the half, as the server stores it: cut, not rounded.
    await database.pool.query(
      `UPDATE events SET recorded_at = CASE stream_revision WHEN 0 THEN '2026-03-04 05:06:07.891999+00'::timestamptz END
       WHERE stream_name = $1`,
      [stream],
    );
    const fromLog = await store.readAll({ maxCount: 10, filter: { streamPrefixes: [stream] } });
    const fromStream = [];
    for await (const event of store.readStream(stream)) fromStream.push(event);
    for (const event of [...fromLog.events, ...fromStream]) {
      expect(event.recordedAt.toISOString()).toBe('2026-03-04T05:06:07.891Z');
    }
    expect(fromLog.events).toHaveLength(1);
    expect(fromStream).toHaveLength(1);
  });

  it('positions round-trip through the opaque encoding and resume reads', async () => {
    const stream = `roundtrip-${randomUUID()}`;
    const { position } = await store.appendToStream(stream, [{ type: 'A', data: {} }], 'no_stream');
    const page = await store.readAll({
      after: position,
      maxCount: 10,
      filter: { streamPrefixes: [stream] },
    });
    expect(page.events).toEqual([]);
  });
});

describe('PostgreSQL event store, on a log that has no statistics yet', () => {
  // A log restored, imported or written in a burst: autovacuum analyses it only at its next round
  // (a minute by default). Until then the planner guesses how many events lie beyond a position,
  // and reads must not depend on the guess. Autovacuum is off here, so the log stays that way.
  let database: TestDatabase;
  let writer: PostgresEventStore;
  let reader: pg.Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    await database.pool.query('ALTER TABLE events SET (autovacuum_enabled = false)');
    writer = new PostgresEventStore(database.pool, database.url);
    // One connection, so that its table statistics can be flushed on demand below.
    reader = createPool({ connectionString: database.url, max: 1 });
  });
  afterAll(async () => {
    await writer.close();
    await reader.end();
    await database.drop();
  });

  const burst = async (streams: number): Promise<void> => {
    for (let stream = 0; stream < streams; stream++) {
      const events = Array.from({ length: 1_000 }, (_, i) => ({
        type: 'Burst',
        data: { i, pad: 'x'.repeat(200) },
      }));
      await writer.appendToStream(`tenant-${randomUUID()}`, events, 'no_stream');
    }
  };
  const analysed = async (): Promise<boolean> => {
    const { rows } = await database.pool.query<{ analysed: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_stats WHERE tablename = 'events' AND attname = 'transaction_id') AS analysed`,
    );
    return rows[0]?.analysed ?? false;
  };
  const scansOfEvents = async (): Promise<{ sequential: number; index: number }> => {
    await reader.query('SELECT pg_stat_force_next_flush()');
    await reader.query('SELECT 1');
    const { rows } = await database.pool.query<{ seq_scan: string; idx_scan: string }>(
      `SELECT seq_scan::text, coalesce(idx_scan, 0)::text AS idx_scan FROM pg_stat_user_tables WHERE relname = 'events'`,
    );
    return { sequential: Number(rows[0]?.seq_scan), index: Number(rows[0]?.idx_scan) };
  };
  /** Rows of the log that reads of the reader's connection have fetched, by any scan. */
  const rowsFetchedFromEvents = async (): Promise<number> => {
    await reader.query('SELECT pg_stat_force_next_flush()');
    await reader.query('SELECT 1');
    const { rows } = await database.pool.query<{ fetched: string }>(
      `SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::text AS fetched
       FROM pg_stat_user_tables WHERE relname = 'events'`,
    );
    return Number(rows[0]?.fetched);
  };

  it('reads at the head through the index after a burst, without scanning the whole log', async () => {
    const store = new PostgresEventStore(reader, database.url);
    try {
      // The store reads before the burst (a running service), so the burst finds it reading.
      await store.readAll({ maxCount: 1 });
      await burst(4);
      expect(await analysed()).toBe(false);

      const head = await store.headPosition();
      const before = await scansOfEvents();
      for (let i = 0; i < 10; i++) {
        const page = await store.readAll({
          after: head,
          maxCount: 1,
          filter: { streamPrefixes: ['tenant-'] },
        });
        expect(page.events).toEqual([]);
        expect(page.isEnd).toBe(true);
      }
      const after = await scansOfEvents();
      expect(after.index).toBeGreaterThan(before.index);
      expect(after.sequential - before.sequential).toBe(0);
      expect(await analysed()).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('a store opening such a log analyses it before its first read', async () => {
    await burst(2);
    expect(await analysed()).toBe(false);
    const store = new PostgresEventStore(reader, database.url);
    try {
      const page = await store.readAll({ maxCount: 1_000, filter: { streamPrefixes: ['tenant-'] } });
      expect(page.events).toHaveLength(1_000);
      expect(await analysed()).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("pages through one stream after a burst into it reading that stream's rows only, whatever the statistics say", async () => {
    // Statistics taken before the burst know nothing of this stream: the planner takes it to be
    // empty. A read of its pages that trusted the guess scanned the rest of the log for each page.
    await burst(1);
    await database.pool.query('ANALYZE events');
    const streamName = `tenant-${randomUUID()}`;
    for (let part = 0; part < 8; part++) {
      const events = Array.from({ length: 1_000 }, (_, i) => ({
        type: 'Burst',
        data: { i, pad: 'x'.repeat(200) },
      }));
      await writer.appendToStream(streamName, events, part === 0 ? 'no_stream' : part * 1_000 - 1);
    }
    const store = new PostgresEventStore(reader, database.url);
    try {
      const pageSize = 25;
      const pages = 40;
      const before = await rowsFetchedFromEvents();
      let after: Position | undefined;
      for (let i = 0; i < pages; i++) {
        const page = await store.readAll({
          after,
          maxCount: pageSize,
          filter: { stream: streamName },
        });
        expect(page.events.map((event) => event.revision)).toEqual(
          Array.from({ length: pageSize }, (_, index) => i * pageSize + index),
        );
        after = page.nextPosition;
      }
      const fetched = (await rowsFetchedFromEvents()) - before;
      // The page's rows, the head's and the held-back check's: a few per page, not thousands.
      expect(fetched).toBeLessThan(pages * pageSize * 2);
    } finally {
      await store.close();
    }
  });
});

describe('migrations', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  const schemaFingerprint = async (): Promise<string> => {
    const { rows } = await database.pool.query<{ fingerprint: string }>(
      `SELECT md5(string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name)) AS fingerprint
       FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    return rows[0]?.fingerprint ?? '';
  };

  it('run twice in a row: the second run applies nothing and changes nothing', async () => {
    const before = await schemaFingerprint();
    const recorded = await database.pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM schema_migrations',
    );
    const first = await runMigrations(database.url);
    const second = await runMigrations(database.url);
    expect(first.applied).toEqual([]);
    expect(second.applied).toEqual([]);
    expect(await schemaFingerprint()).toBe(before);
    const after = await database.pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM schema_migrations',
    );
    expect(after.rows[0]?.count).toBe(recorded.rows[0]?.count);
    expect(recorded.rows[0]?.count).toBeGreaterThan(0);
  });

  it('several instances migrating a fresh database at once all succeed, applying each migration once', async () => {
    const fresh = await createEmptyDatabase(database.url);
    try {
      const outcomes = await Promise.all([
        runMigrations(fresh.url),
        runMigrations(fresh.url),
        runMigrations(fresh.url),
      ]);
      const applied = outcomes.flatMap((outcome) => outcome.applied);
      const { rows } = await fresh.pool.query<{ name: string }>(
        'SELECT name FROM schema_migrations ORDER BY id',
      );
      expect(applied.sort()).toEqual(rows.map((row) => row.name).sort());
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      await fresh.drop();
    }
  });

  it("keeps the log's stream index when an operator built it beforehand, concurrently, as docs/deploying.md says", async () => {
    const fresh = await createEmptyDatabase(database.url);
    try {
      await runMigrations(fresh.url);
      // The database as the version before left it, with the index built while that version ran
      // (and without what came after it: migrations 0007 to 0009 undone by hand).
      await fresh.pool
        .query(`DROP FUNCTION es_try_append_batch(text[], text[], int[], uuid[], text[], jsonb[], jsonb[]);
        DROP FUNCTION es_try_append(text, text, uuid[], text[], jsonb[], jsonb[]);
        ALTER FUNCTION es_try_append_unchecked(text, text, uuid[], text[], jsonb[], jsonb[]) RENAME TO es_try_append;
        DROP TABLE log_horizon_exemptions`);
      await fresh.pool.query('DROP INDEX events_stream_position');
      await fresh.pool.query(
        `DELETE FROM schema_migrations
         WHERE name IN ('0006_events-by-stream-position', '0007_log-horizon-exemptions', '0008_append-in-one-function',
                        '0009_append-batch')`,
      );
      await fresh.pool.query(
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS events_stream_position ON events (stream_name, transaction_id, global_position)',
      );
      const upgrade = await runMigrations(fresh.url);
      expect(upgrade.applied).toEqual([
        '0006_events-by-stream-position',
        '0007_log-horizon-exemptions',
        '0008_append-in-one-function',
        '0009_append-batch',
      ]);
      const { rows } = await fresh.pool.query<{ valid: boolean }>(
        `SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = 'events_stream_position'::regclass`,
      );
      expect(rows).toEqual([{ valid: true }]);
    } finally {
      await fresh.drop();
    }
  });
});

async function createEmptyDatabase(
  anyUrl: string,
): Promise<{ url: string; pool: pg.Pool; drop(): Promise<void> }> {
  const name = `tenancy_empty_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: anyUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(anyUrl);
  url.pathname = `/${name}`;
  const pool = createPool({ connectionString: url.toString(), max: 2 });
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      const dropper = new pg.Client({ connectionString: anyUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await dropper.end();
    },
  };
}

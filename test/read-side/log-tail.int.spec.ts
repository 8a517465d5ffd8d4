import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { EventFilter, Position, RecordedEvent } from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { followLog } from '../../src/consumers/log-follower.js';
import { LogTail } from '../../src/consumers/log-tail.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

/** Followers of one store in one process share their reads of the log's live end. */
describe('the shared tail of the log', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  /** A store of its own per test, so that no other test's followers share its tail. */
  const withStore = async (work: (store: PostgresEventStore) => Promise<void>): Promise<void> => {
    const store = new PostgresEventStore(database.pool, database.url);
    try {
      await work(store);
    } finally {
      await store.close();
    }
  };

  const append = (store: PostgresEventStore, stream: string, type: string) =>
    store.appendToStream(stream, [{ type, data: {} }], 'any');

  /** Follows the log live from now on, collecting what it is handed. */
  const follow = (store: PostgresEventStore, filter: EventFilter, signal: AbortSignal) => {
    const received: RecordedEvent[] = [];
    let live = false;
    const done = (async () => {
      for await (const batch of followLog({ store, filter, from: 'end', signal, batchSize: 100 })) {
        received.push(...batch.events);
        live ||= batch.caughtUp;
      }
    })();
    return { received, done, isLive: () => live };
  };

  it('live followers read the log once per append between them, each getting exactly its own events', async () => {
    await withStore(async (store) => {
      const prefix = `tail-${randomUUID().slice(0, 8)}-`;
      const filters: EventFilter[] = [
        { streamPrefixes: [prefix] },
        { streamPrefixes: [prefix] },
        { streamPrefixes: [prefix], eventTypes: ['Kept'] },
        { streamPrefixes: [`${prefix}a`] },
        { streamPrefixes: [`${prefix}b`], eventTypes: ['Kept', 'Other'] },
        // One stream, whose name is a prefix of another's (b-11).
        { stream: `${prefix}b-1` },
      ];
      const controller = new AbortController();
      const followers = filters.map((filter) => follow(store, filter, controller.signal));
      const reads = jest.spyOn(store, 'readAll');
      try {
        // Live once the catch-up read has come back empty; then the tail is read once.
        await waitFor(async () => followers.every((f) => f.isLive()), 5000);
        await append(store, `${prefix}a-0`, 'Warm');
        await waitFor(async () => followers[0]!.received.length === 1, 5000);
        reads.mockClear();

        const appended: { stream: string; type: string; position: Position }[] = [];
        for (let index = 0; index < 12; index++) {
          const stream = `${prefix}${index % 2 === 0 ? 'a' : 'b'}-${index}`;
          const type = index % 3 === 0 ? 'Other' : 'Kept';
          appended.push({ stream, type, position: (await append(store, stream, type)).position });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await waitFor(async () => followers[0]!.received.length === 13, 5000);
        await new Promise((resolve) => setTimeout(resolve, 200));

        const expected = (filter: EventFilter) =>
          [{ stream: `${prefix}a-0`, type: 'Warm' }, ...appended]
            .filter(
              (event) =>
                (filter.stream === undefined
                  ? filter.streamPrefixes!.some((p) => event.stream.startsWith(p))
                  : event.stream === filter.stream) &&
                (!filter.eventTypes || filter.eventTypes.includes(event.type)),
            )
            .map((event) => `${event.stream}:${event.type}`);
        filters.forEach((filter, index) => {
          expect(followers[index]!.received.map((event) => `${event.streamName}:${event.type}`)).toEqual(
            expected(filter),
          );
        });
        // Each follower reading for itself made at least one read per follower and append (60).
        expect(reads.mock.calls.length).toBeLessThanOrEqual(2 * appended.length + 4);
      } finally {
        reads.mockRestore();
        controller.abort();
        await Promise.all(followers.map((f) => f.done));
      }
    });
  });

  it('an event appended while every follower is busy is handed out when they ask again', async () => {
    await withStore(async (store) => {
      const prefix = `busy-${randomUUID().slice(0, 8)}-`;
      const controller = new AbortController();
      const batches = followLog({
        store,
        filter: { streamPrefixes: [prefix] },
        from: 'end',
        signal: controller.signal,
        batchSize: 100,
      })[Symbol.asyncIterator]();
      try {
        expect((await batches.next()).value?.caughtUp).toBe(true);
        const first = append(store, `${prefix}1`, 'First');
        expect((await batches.next()).value?.events.map((event) => event.type)).toEqual(['First']);
        await first;
        // Nobody waits on the tail now: the follower is "applying" its batch.
        await append(store, `${prefix}2`, 'WhileBusy');
        await new Promise((resolve) => setTimeout(resolve, 100));
        const started = Date.now();
        expect((await batches.next()).value?.events.map((event) => event.type)).toEqual(['WhileBusy']);
        // Not left for the next poll of the log (half a second).
        expect(Date.now() - started).toBeLessThan(250);
      } finally {
        controller.abort();
        await batches.return(undefined);
      }
    });
  });

  it('a follower starting past the end of the log waits for it to grow, without reading it again and again', async () => {
    await withStore(async (store) => {
      const prefix = `past-${randomUUID().slice(0, 8)}-`;
      const filter = { streamPrefixes: [prefix] };
      await append(store, `${prefix}0`, 'Before');
      const tail = new LogTail(store);
      const follower = tail.join(filter);
      const reads = jest.spyOn(store, 'readAll');
      const controller = new AbortController();
      try {
        // The tail already holds the log up to its end, as it does in a running service.
        expect((await tail.read(undefined, 1_000, filter))?.isEnd).toBe(true);
        reads.mockClear();
        const past = 'ffffffffffffffff-ffffffffffffffff' as Position;
        const page = await Promise.race([
          tail.read(past, 10, filter),
          new Promise<'still reading'>((resolve) =>
            setTimeout(() => resolve('still reading'), 2_000).unref(),
          ),
        ]);
        expect(page).toEqual({ events: [], nextPosition: past, isEnd: true });
        const readsForIt = reads.mock.calls.length;
        expect(readsForIt).toBeLessThanOrEqual(2);
        // It waits for the log to change, as any follower at the end does, and only then looks again.
        const woken = tail.waitForMore(
          page as Exclude<typeof page, 'still reading' | undefined>,
          controller.signal,
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(reads.mock.calls.length).toBeLessThanOrEqual(readsForIt + 1);
        await append(store, `${prefix}1`, 'After');
        expect(await woken).toBe(true);
      } finally {
        controller.abort();
        reads.mockRestore();
        tail.leave(follower);
      }
    });
  });

  it('a follower behind what the tail keeps is told to read the store itself', async () => {
    await withStore(async (store) => {
      const prefix = `behind-${randomUUID().slice(0, 8)}-`;
      const filter = { streamPrefixes: [prefix] };
      const start = (await append(store, `${prefix}0`, 'Start')).position;
      const tail = new LogTail(store, { readSize: 5, maxEvents: 10 });
      const fast = tail.join(filter);
      const slow = tail.join(filter);
      try {
        for (let index = 1; index <= 30; index++) await append(store, `${prefix}${index}`, `E${index}`);
        const taken: string[] = [];
        let after: Position | undefined = start;
        for (;;) {
          const page = await tail.read(after, 4, filter);
          if (!page) throw new Error('the fast follower fell out of the tail');
          taken.push(...page.events.map((event) => event.type));
          after = page.nextPosition ?? after;
          if (page.isEnd) break;
        }
        expect(taken).toEqual(Array.from({ length: 30 }, (_, index) => `E${index + 1}`));
        // The slow one still stands at the start, which the tail has forgotten.
        expect(await tail.read(start, 4, filter)).toBeUndefined();
      } finally {
        tail.leave(fast);
        tail.leave(slow);
      }
    });
  });
});

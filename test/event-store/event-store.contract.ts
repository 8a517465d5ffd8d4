import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ConcurrencyError,
  type EventStore,
  type EventToAppend,
  type Position,
  type RecordedEvent,
} from '../../src/event-store/event-store.port.js';

/**
 * The behaviour every EventStore adapter must share, written once. Each adapter's spec calls this
 * with a factory. Stream names carry a prefix unique to the run, so the suite can share a server
 * (and a global log) with other runs: every log-wide assertion filters on that prefix.
 */
export interface ContractSubject {
  readonly store: EventStore;
  close(): Promise<void>;
}

export function describeEventStoreContract(adapterName: string, open: () => Promise<ContractSubject>): void {
  describe(`EventStore contract: ${adapterName}`, () => {
    let subject: ContractSubject;
    let store: EventStore;
    const runPrefix = `contract${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    let streamCounter = 0;
    const newStream = (category = 'stream'): string => `${runPrefix}_${category}-${++streamCounter}`;

    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    });
    afterAll(async () => {
      await subject.close();
    });

    const event = (type: string, n: number, extra: Record<string, unknown> = {}): EventToAppend => ({
      type,
      data: { n, ...extra },
      metadata: { correlationId: `c-${n}` },
    });
    const collect = async (events: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> => {
      const all: RecordedEvent[] = [];
      for await (const recorded of events) all.push(recorded);
      return all;
    };
    const ownLog = async (after?: Position): Promise<RecordedEvent[]> => {
      const events: RecordedEvent[] = [];
      let cursor = after;
      for (;;) {
        const page = await store.readAll({
          after: cursor,
          maxCount: 100,
          filter: { streamPrefixes: [runPrefix] },
        });
        events.push(...page.events);
        cursor = page.nextPosition ?? cursor;
        if (page.isEnd) return events;
      }
    };
    const expectConflict = async (promise: Promise<unknown>, actual: number | 'no_stream'): Promise<void> => {
      const error = await promise.then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect((error as ConcurrencyError).actual).toEqual(actual);
    };

    describe('appending', () => {
      it('records events with their type, data, metadata and id, numbering revisions from 0', async () => {
        const stream = newStream();
        const id = randomUUID();
        const result = await store.appendToStream(
          stream,
          [{ ...event('Happened', 1), id }, event('Happened', 2)],
          'no_stream',
        );
        expect(result.nextExpectedRevision).toBe(1);
        const events = await collect(store.readStream(stream));
        expect(events.map((e) => [e.revision, e.type, e.data, e.metadata, e.streamName])).toEqual([
          [0, 'Happened', { n: 1 }, { correlationId: 'c-1' }, stream],
          [1, 'Happened', { n: 2 }, { correlationId: 'c-2' }, stream],
        ]);
        expect(events[0]?.id).toBe(id);
        expect(events[1]?.position).toBe(result.position);
        expect(events[0]?.recordedAt).toBeInstanceOf(Date);
      });

      it('returns the position of the last event written, later than any earlier append', async () => {
        const first = await store.appendToStream(newStream(), [event('A', 1)], 'no_stream');
        const second = await store.appendToStream(newStream(), [event('A', 2)], 'no_stream');
        expect(store.comparePositions(first.position, second.position)).toBeLessThan(0);
        expect(store.comparePositions(second.position, first.position)).toBeGreaterThan(0);
        expect(store.comparePositions(first.position, first.position)).toBe(0);
      });

      it("'no_stream' refuses a stream that exists and reports its revision", async () => {
        const stream = newStream();
        await store.appendToStream(stream, [event('A', 1), event('A', 2)], 'no_stream');
        await expectConflict(store.appendToStream(stream, [event('A', 3)], 'no_stream'), 1);
      });

      it("'stream_exists' refuses a missing stream and accepts an existing one", async () => {
        const stream = newStream();
        await expectConflict(store.appendToStream(stream, [event('A', 1)], 'stream_exists'), 'no_stream');
        await store.appendToStream(stream, [event('A', 1)], 'any');
        const result = await store.appendToStream(stream, [event('A', 2)], 'stream_exists');
        expect(result.nextExpectedRevision).toBe(1);
      });

      it('an exact revision must be the revision of the last event', async () => {
        const stream = newStream();
        await expectConflict(store.appendToStream(stream, [event('A', 1)], 0), 'no_stream');
        await store.appendToStream(stream, [event('A', 1)], 'no_stream');
        await expectConflict(store.appendToStream(stream, [event('A', 2)], 1), 0);
        const result = await store.appendToStream(stream, [event('A', 2), event('A', 3)], 0);
        expect(result.nextExpectedRevision).toBe(2);
        await expectConflict(store.appendToStream(stream, [event('A', 4)], 0), 2);
      });

      it("'any' appends whatever the stream holds", async () => {
        const stream = newStream();
        expect((await store.appendToStream(stream, [event('A', 1)], 'any')).nextExpectedRevision).toBe(0);
        expect((await store.appendToStream(stream, [event('A', 2)], 'any')).nextExpectedRevision).toBe(1);
      });

      it('the conflict error names the stream and the expectation', async () => {
        const stream = newStream();
        await store.appendToStream(stream, [event('A', 1)], 'no_stream');
        const error = await store.appendToStream(stream, [event('A', 2)], 5).catch((e: unknown) => e);
        expect(error).toMatchObject({ name: 'ConcurrencyError', streamName: stream, expected: 5, actual: 0 });
      });

      it('of 50 concurrent appends with the same expected revision exactly one wins, leaving no gap or duplicate', async () => {
        const stream = newStream();
        await store.appendToStream(stream, [event('Seed', 0)], 'no_stream');
        const outcomes = await Promise.allSettled(
          Array.from({ length: 50 }, (_, i) =>
            store.appendToStream(stream, [event('Raced', i), event('Raced', i)], 0),
          ),
        );
        const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
        const lost = outcomes.filter((outcome) => outcome.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(49);
        for (const outcome of lost) expect(outcome.reason).toBeInstanceOf(ConcurrencyError);
        const revisions = (await collect(store.readStream(stream))).map((e) => e.revision);
        expect(revisions).toEqual([0, 1, 2]);
      });

      it('concurrent appends with any leave a gap-free, duplicate-free stream', async () => {
        const stream = newStream();
        await Promise.all(
          Array.from({ length: 40 }, (_, i) => store.appendToStream(stream, [event('A', i)], 'any')),
        );
        const revisions = (await collect(store.readStream(stream))).map((e) => e.revision);
        expect(revisions).toEqual(Array.from({ length: 40 }, (_, i) => i));
      });

      it('a rejected 1,000-event append leaves nothing behind', async () => {
        const stream = newStream();
        await store.appendToStream(stream, [event('A', 0)], 'no_stream');
        const batch = Array.from({ length: 1000 }, (_, i) => event('Bulk', i));
        await expectConflict(store.appendToStream(stream, batch, 'no_stream'), 0);
        expect(await collect(store.readStream(stream))).toHaveLength(1);
        const accepted = await store.appendToStream(stream, batch, 0);
        expect(accepted.nextExpectedRevision).toBe(1000);
        expect(await collect(store.readStream(stream))).toHaveLength(1001);
      });

      it('refuses an empty append', async () => {
        await expect(store.appendToStream(newStream(), [], 'any')).rejects.toThrow(TypeError);
      });
    });

    describe('reading a stream', () => {
      it('an unknown stream yields nothing and has no revision', async () => {
        const stream = newStream();
        expect(await collect(store.readStream(stream))).toEqual([]);
        expect(await store.streamRevision(stream)).toBeUndefined();
      });

      it('reads forwards and backwards, from a revision, up to a count, across pages', async () => {
        const stream = newStream();
        await store.appendToStream(
          stream,
          Array.from({ length: 2500 }, (_, i) => event('A', i)),
          'no_stream',
        );
        expect(await store.streamRevision(stream)).toBe(2499);
        const forwards = await collect(store.readStream(stream));
        expect(forwards.map((e) => e.revision)).toEqual(Array.from({ length: 2500 }, (_, i) => i));
        const backwards = await collect(store.readStream(stream, { direction: 'backwards' }));
        expect(backwards.map((e) => e.revision)).toEqual(Array.from({ length: 2500 }, (_, i) => 2499 - i));
        const slice = await collect(store.readStream(stream, { fromRevision: 1200, maxCount: 3 }));
        expect(slice.map((e) => e.data.n)).toEqual([1200, 1201, 1202]);
        const lastTwo = await collect(store.readStream(stream, { direction: 'backwards', maxCount: 2 }));
        expect(lastTwo.map((e) => e.revision)).toEqual([2499, 2498]);
        const before = await collect(
          store.readStream(stream, { direction: 'backwards', fromRevision: 1, maxCount: 5 }),
        );
        expect(before.map((e) => e.revision)).toEqual([1, 0]);
      });
    });

    describe('reading the log', () => {
      it('pages through the log in append order, each page after the previous one', async () => {
        const start = await store.headPosition();
        const streams = [newStream('paged'), newStream('paged'), newStream('paged')];
        const appended: string[] = [];
        for (let i = 0; i < 30; i++) {
          const stream = streams[i % 3] as string;
          await store.appendToStream(stream, [event('Paged', i)], 'any');
          appended.push(`${stream}:${i}`);
        }
        const seen: string[] = [];
        let cursor = start;
        for (;;) {
          const page = await store.readAll({
            after: cursor,
            maxCount: 7,
            filter: { streamPrefixes: [`${runPrefix}_paged`] },
          });
          expect(page.events.length).toBeLessThanOrEqual(7);
          seen.push(...page.events.map((e) => `${e.streamName}:${String(e.data.n)}`));
          cursor = page.nextPosition ?? cursor;
          if (page.isEnd) break;
        }
        expect(seen).toEqual(appended);
      });

      it('positions grow strictly along the log', async () => {
        const log = await ownLog();
        for (let i = 1; i < log.length; i++) {
          expect(
            store.comparePositions(
              (log[i - 1] as RecordedEvent).position,
              (log[i] as RecordedEvent).position,
            ),
          ).toBeLessThan(0);
        }
      });

      it('filters by stream prefix and by event type', async () => {
        const start = await store.headPosition();
        const kept = newStream('kept');
        const other = newStream('other');
        await store.appendToStream(kept, [event('Wanted', 1), event('Unwanted', 2)], 'no_stream');
        await store.appendToStream(other, [event('Wanted', 3)], 'no_stream');
        const byPrefix = await store.readAll({
          after: start,
          maxCount: 100,
          filter: { streamPrefixes: [`${runPrefix}_kept`] },
        });
        expect(byPrefix.events.map((e) => e.data.n)).toEqual([1, 2]);
        const byType = await store.readAll({
          after: start,
          maxCount: 100,
          filter: { streamPrefixes: [runPrefix], eventTypes: ['Wanted'] },
        });
        expect(byType.events.map((e) => e.data.n)).toEqual([1, 3]);
      });

      it('filters on one stream: not the streams its name is a prefix of, in log order, with types', async () => {
        const start = await store.headPosition();
        const one = newStream('one');
        await store.appendToStream(one, [event('Wanted', 1), event('Unwanted', 2)], 'no_stream');
        await store.appendToStream(`${one}-longer`, [event('Wanted', 3)], 'no_stream');
        await store.appendToStream(newStream('another'), [event('Wanted', 4)], 'no_stream');
        await store.appendToStream(one, [event('Wanted', 5)], 1);
        const from = start === undefined ? {} : { after: start };
        const byStream = await store.readAll({ ...from, maxCount: 100, filter: { stream: one } });
        expect(byStream.events.map((e) => e.data.n)).toEqual([1, 2, 5]);
        const typed = { stream: one, eventTypes: ['Wanted'] };
        const byStreamAndType = await store.readAll({ ...from, maxCount: 100, filter: typed });
        expect(byStreamAndType.events.map((e) => e.data.n)).toEqual([1, 5]);
        expect(await store.countEvents({ ...from, filter: typed, limit: 100 })).toBe(2);
        const paged = await store.readAll({ ...from, maxCount: 1, filter: { stream: one } });
        const next = await store.readAll({
          after: paged.nextPosition,
          maxCount: 100,
          filter: { stream: one },
        });
        expect([...paged.events, ...next.events].map((e) => e.data.n)).toEqual([1, 2, 5]);
      });

      it('counts what a read after a position would return, filtered, up to a limit', async () => {
        const start = await store.headPosition();
        const counted = newStream('counted');
        await store.appendToStream(
          counted,
          Array.from({ length: 12 }, (_, i) => event(i % 3 === 0 ? 'Rare' : 'Common', i)),
          'no_stream',
        );
        await store.appendToStream(newStream('uncounted'), [event('Rare', 99)], 'no_stream');
        const mine = { streamPrefixes: [`${runPrefix}_counted`] };
        const from = start === undefined ? {} : { after: start };
        expect(await store.countEvents({ ...from, filter: mine, limit: 100 })).toBe(12);
        expect(await store.countEvents({ ...from, filter: mine, limit: 5 })).toBe(5);
        expect(
          await store.countEvents({ ...from, filter: { ...mine, eventTypes: ['Rare'] }, limit: 100 }),
        ).toBe(4);
        expect(
          await store.countEvents({ ...from, filter: { streamPrefixes: [runPrefix] }, limit: 100 }),
        ).toBe(13);
        const [, , third] = await ownLog(start);
        expect(
          await store.countEvents({ after: (third as RecordedEvent).position, filter: mine, limit: 100 }),
        ).toBe(9);
        const head = (await store.headPosition()) as Position;
        expect(await store.countEvents({ after: head, filter: mine, limit: 100 })).toBe(0);
      });

      it('the last position is that of the newest append, and no later than the head once it is readable', async () => {
        const { position } = await store.appendToStream(newStream('last'), [event('A', 1)], 'no_stream');
        expect(await store.lastPosition()).toBe(position);
        expect(await store.headPosition()).toBe(position);
      });

      it('a filtered read that matched nothing still moves its cursor forward', async () => {
        const start = await store.headPosition();
        await store.appendToStream(newStream('skipped'), [event('A', 1)], 'no_stream');
        const page = await store.readAll({
          after: start,
          maxCount: 10,
          filter: { streamPrefixes: [`${runPrefix}_nothing`] },
        });
        expect(page.events).toEqual([]);
        expect(page.isEnd).toBe(true);
        expect(page.nextPosition).toBeDefined();
        if (start) expect(store.comparePositions(page.nextPosition as Position, start)).toBeGreaterThan(0);
      });
    });

    describe('subscribing', () => {
      const take = async (
        events: AsyncIterable<RecordedEvent>,
        count: number,
        controller: AbortController,
      ): Promise<RecordedEvent[]> => {
        const taken: RecordedEvent[] = [];
        for await (const recorded of events) {
          taken.push(recorded);
          if (taken.length === count) break;
        }
        controller.abort();
        return taken;
      };

      it('delivers history and then live events, in order', async () => {
        const start = await store.headPosition();
        const stream = newStream('live');
        await store.appendToStream(stream, [event('A', 1), event('A', 2)], 'no_stream');
        const controller = new AbortController();
        const received = take(
          store.subscribe({
            from: start ?? 'start',
            filter: { streamPrefixes: [`${runPrefix}_live`] },
            signal: controller.signal,
          }),
          4,
          controller,
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
        await store.appendToStream(stream, [event('A', 3)], 1);
        await store.appendToStream(stream, [event('A', 4)], 2);
        expect((await received).map((e) => e.data.n)).toEqual([1, 2, 3, 4]);
      });

      it('resumes exactly after a stored position', async () => {
        const stream = newStream('resume');
        await store.appendToStream(
          stream,
          [1, 2, 3, 4, 5].map((n) => event('A', n)),
          'no_stream',
        );
        const all = await collect(store.readStream(stream));
        const checkpoint = (all[1] as RecordedEvent).position;
        const controller = new AbortController();
        const resumed = await take(
          store.subscribe({
            from: checkpoint,
            filter: { streamPrefixes: [`${runPrefix}_resume`] },
            signal: controller.signal,
          }),
          3,
          controller,
        );
        expect(resumed.map((e) => e.data.n)).toEqual([3, 4, 5]);
      });

      it('a filtered subscription sees only what matches', async () => {
        const start = await store.headPosition();
        const controller = new AbortController();
        const received = take(
          store.subscribe({
            from: start ?? 'start',
            filter: { streamPrefixes: [`${runPrefix}_mixed`], eventTypes: ['Kept'] },
            signal: controller.signal,
          }),
          3,
          controller,
        );
        const stream = newStream('mixed');
        await store.appendToStream(
          stream,
          [event('Kept', 1), event('Dropped', 2), event('Kept', 3)],
          'no_stream',
        );
        await store.appendToStream(newStream('unrelated'), [event('Kept', 99)], 'no_stream');
        await store.appendToStream(stream, [event('Dropped', 4), event('Kept', 5)], 2);
        expect((await received).map((e) => [e.type, e.data.n])).toEqual([
          ['Kept', 1],
          ['Kept', 3],
          ['Kept', 5],
        ]);
      });

      it("a subscription to one stream sees that stream's events only", async () => {
        const start = await store.headPosition();
        const controller = new AbortController();
        const stream = newStream('followed');
        const received = take(
          store.subscribe({ from: start ?? 'start', filter: { stream }, signal: controller.signal }),
          2,
          controller,
        );
        await store.appendToStream(stream, [event('A', 1)], 'no_stream');
        await store.appendToStream(`${stream}-longer`, [event('A', 2)], 'no_stream');
        await store.appendToStream(stream, [event('A', 3)], 0);
        expect((await received).map((e) => e.data.n)).toEqual([1, 3]);
      });

      it("'end' delivers only what is appended after subscribing", async () => {
        const stream = newStream('tail');
        await store.appendToStream(stream, [event('A', 1)], 'no_stream');
        const controller = new AbortController();
        const iterator = store
          .subscribe({
            from: 'end',
            filter: { streamPrefixes: [`${runPrefix}_tail`] },
            signal: controller.signal,
          })
          [Symbol.asyncIterator]();
        const next = iterator.next();
        await new Promise((resolve) => setTimeout(resolve, 100));
        await store.appendToStream(stream, [event('A', 2)], 0);
        const first = await next;
        controller.abort();
        expect(first.done).toBe(false);
        expect((first.value as RecordedEvent).data.n).toBe(2);
      });

      it('wakes promptly when an event is appended', async () => {
        const stream = newStream('prompt');
        const controller = new AbortController();
        const iterator = store
          .subscribe({
            from: 'end',
            filter: { streamPrefixes: [`${runPrefix}_prompt`] },
            signal: controller.signal,
          })
          [Symbol.asyncIterator]();
        const next = iterator.next();
        await new Promise((resolve) => setTimeout(resolve, 100));
        const appendedAt = Date.now();
        await store.appendToStream(stream, [event('A', 1)], 'no_stream');
        await next;
        const latency = Date.now() - appendedAt;
        controller.abort();
        // Far below the polling interval: the subscriber was woken, not polling.
        expect(latency).toBeLessThan(250);
      });

      it('stops cleanly when aborted while waiting', async () => {
        const controller = new AbortController();
        const iterator = store
          .subscribe({
            from: 'end',
            filter: { streamPrefixes: [`${runPrefix}_silent`] },
            signal: controller.signal,
          })
          [Symbol.asyncIterator]();
        const next = iterator.next();
        setTimeout(() => controller.abort(), 50);
        expect((await next).done).toBe(true);
      });
    });
  });
}

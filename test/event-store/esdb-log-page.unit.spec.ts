import { describe, expect, it } from '@jest/globals';
import type { AllStreamResolvedEvent } from '@eventstore/db-client';
import type { EventFilter, Position } from '../../src/event-store/event-store.port.js';
import { collectLogPage, scanLimitFor } from '../../src/event-store/esdb/esdb-log-page.js';
import { encodePosition } from '../../src/event-store/position.js';
import { record } from './esdb-fakes.js';

const at = (commit: number): Position => encodePosition(BigInt(commit), BigInt(commit));

async function* source(records: readonly AllStreamResolvedEvent[]): AsyncGenerator<AllStreamResolvedEvent> {
  yield* records;
}

const page = (
  records: readonly AllStreamResolvedEvent[],
  request: { after?: Position; maxCount: number; filter?: EventFilter; scanLimit?: number },
) =>
  collectLogPage(source(records), {
    after: request.after,
    maxCount: request.maxCount,
    filter: request.filter,
    scanLimit: request.scanLimit ?? 100,
  });

const commits = (events: readonly { data: { readonly [key: string]: unknown } }[]): number[] =>
  events.map((event) => Number(event.data.commit));

describe('a page of $all on EventStoreDB', () => {
  it('skips the record at the start position, because the server reads from it inclusively', async () => {
    const result = await page([record({ commit: 5 }), record({ commit: 6 }), record({ commit: 7 })], {
      after: at(5),
      maxCount: 10,
    });
    expect(commits(result.events)).toEqual([6, 7]);
  });

  it('starts at the first record when there is no start position', async () => {
    const result = await page([record({ commit: 1 }), record({ commit: 2 })], { maxCount: 10 });
    expect(commits(result.events)).toEqual([1, 2]);
  });

  it('stops at maxCount, not at the end, and continues after the last event', async () => {
    const result = await page(
      [1, 2, 3, 4].map((commit) => record({ commit })),
      { maxCount: 2 },
    );
    expect(commits(result.events)).toEqual([1, 2]);
    expect(result.isEnd).toBe(false);
    expect(result.nextPosition).toBe(at(2));
  });

  it('leaves out system events', async () => {
    const result = await page([record({ commit: 1, type: '$statsCollected' }), record({ commit: 2 })], {
      maxCount: 10,
    });
    expect(commits(result.events)).toEqual([2]);
  });

  it('applies the filter on the client, stream prefixes AND exact types', async () => {
    const result = await page(
      [
        record({ commit: 1, streamId: 'tenant-1', type: 'Kept' }),
        record({ commit: 2, streamId: 'tenant-1', type: 'KeptNot' }),
        record({ commit: 3, streamId: 'other-1', type: 'Kept' }),
        record({ commit: 4, streamId: 'tenant-2', type: 'Kept' }),
      ],
      { maxCount: 10, filter: { streamPrefixes: ['tenant-'], eventTypes: ['Kept'] } },
    );
    expect(commits(result.events)).toEqual([1, 4]);
  });

  it('at the end of the log, moves the cursor past everything scanned, matched or not', async () => {
    const result = await page(
      [
        record({ commit: 1, streamId: 'mine-1' }),
        record({ commit: 2, streamId: 'theirs-1' }),
        record({ commit: 3, type: '$metadata' }),
      ],
      { maxCount: 10, filter: { streamPrefixes: ['mine-'] } },
    );
    expect(commits(result.events)).toEqual([1]);
    expect(result.isEnd).toBe(true);
    expect(result.nextPosition).toBe(at(3));
  });

  it('a page that matched nothing still moves its cursor forward', async () => {
    const result = await page([record({ commit: 9 }), record({ commit: 10, streamId: 'theirs-1' })], {
      after: at(9),
      maxCount: 10,
      filter: { streamPrefixes: ['mine-'] },
    });
    expect(result.events).toEqual([]);
    expect(result.isEnd).toBe(true);
    expect(result.nextPosition).toBe(at(10));
  });

  it('keeps the cursor where it was when nothing new has been written', async () => {
    const atEnd = await page([record({ commit: 9 })], { after: at(9), maxCount: 10 });
    expect(atEnd).toEqual({ events: [], nextPosition: at(9), isEnd: true });
    const empty = await page([], { maxCount: 10 });
    expect(empty).toEqual({ events: [], nextPosition: undefined, isEnd: true });
  });

  it('a page cut short by the scan limit is not the end, and resumes after the last record scanned', async () => {
    const result = await page(
      [
        record({ commit: 1 }),
        record({ commit: 2, streamId: 'theirs-1' }),
        record({ commit: 3, streamId: 'theirs-1' }),
      ],
      { maxCount: 10, filter: { streamPrefixes: ['tenant-'] }, scanLimit: 3 },
    );
    expect(commits(result.events)).toEqual([1]);
    expect(result.isEnd).toBe(false);
    expect(result.nextPosition).toBe(at(3));
  });

  it('scans one more record than a page, for the inclusive start, and never fewer than a few thousand', () => {
    expect(scanLimitFor(10)).toBe(4096);
    expect(scanLimitFor(10_000)).toBe(10_001);
  });
});

import type {
  EventFilter,
  EventStore,
  Position,
  ReadAllPage,
  RecordedEvent,
} from '../event-store/event-store.port.js';
import { sharedLogTail, type PolledStore } from './log-tail.js';
import { takeBatch } from './take-batch.js';

export interface FollowLogOptions {
  readonly store: EventStore;
  readonly filter: EventFilter;
  /** Exclusive start: 'start' follows the whole log, 'end' only what is appended from now on. */
  readonly from: Position | 'start' | 'end';
  readonly signal: AbortSignal;
  /** Most events in one batch. */
  readonly batchSize: number;
  /** Told of a failed read; the follower then waits and reads again after the last batch it gave out. */
  readonly onReadError?: (error: unknown, attempt: number) => void;
  /** First wait after a failed read; it doubles with each failure in a row, up to maxRetryDelayMs. */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
}

export interface LogBatch {
  readonly events: readonly RecordedEvent[];
  /**
   * True from the batch that reached the end of the log as it stood when following began (that
   * batch may be empty): a reader that loads state from the log is complete from then on.
   */
  readonly caughtUp: boolean;
  /** How a live batch was read, where the follower read it on demand (see EventStore.waitForMore). */
  readonly reading?: LiveRead;
}

/** Wall-clock milliseconds (comparable with an event's recordedAt) of the steps of a live read. */
export interface LiveRead {
  /** When the reader asked for the batch (it had finished the previous one). */
  readonly askedAt: number;
  /** When the read that returned the batch started: the log had grown, or a retry came due. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** Reads that found nothing between the ask and this one. */
  readonly emptyReads: number;
}

/** The wall clock in milliseconds, finer than Date.now(). */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The one way this service follows its log: the read models' projections and the process managers
 * (through CheckpointedConsumer), every instance's API-key registry and the consumers' event feed.
 *
 * It catches up in pages as large as `batchSize`, then follows live, handing out whatever has
 * arrived when the reader asks (a reader that falls behind gets large batches, a live one gets
 * each event as soon as it arrives). Catching up, it reads the next page while the reader works
 * on the one it holds: those pages are full ones of a log already written, so the read costs the
 * reader no wait. Once a page reaches the end, nothing more is read ahead. From a store that is
 * read by polling (PostgreSQL) it then reads on demand: when the reader asks, it reads everything
 * available then, up to `batchSize`, and only when there is nothing does it wait for the log to
 * grow; it takes those events from the tail of the log that every follower of the store in this
 * process shares (LogTail), so that one read of the store per append serves them all. Reading
 * ahead there would hand the reader, once it is done with a batch, a page read while it worked
 * (for a projector, a page that its own open transaction held back), and leave what arrived since
 * for another round. From other stores (EventStoreDB) it takes what the store's subscription has
 * delivered. A failed read (a dropped connection, a restarting database), a read ahead included,
 * is retried with backoff from just after the last batch handed out, so no event is skipped or
 * repeated; the generator ends only when the signal aborts.
 *
 * Pull-based: nothing is read ahead of the reader beyond one page, so a slow reader costs memory
 * in proportion to `batchSize`, not to the log.
 */
export async function* followLog(options: FollowLogOptions): AsyncGenerator<LogBatch, void, undefined> {
  const { store, filter, signal, batchSize } = options;
  let after: Position | 'start' | 'end' = options.from;
  let caughtUp = false;
  let failures = 0;
  const readPage = (from: Position | 'start'): Promise<ReadAllPage> => {
    const page = store.readAll({ ...(from === 'start' ? {} : { after: from }), maxCount: batchSize, filter });
    // Awaited when the reader asks for it; marked handled now, for a failure that comes first.
    page.catch(() => undefined);
    return page;
  };
  while (!signal.aborted) {
    // Catching up, the page after the one the reader holds, read while it works on that one.
    let ahead: Promise<ReadAllPage> | undefined;
    try {
      if (after === 'end') after = (await store.headPosition()) ?? 'start';
      let from: Position | 'start' = after;
      while (!caughtUp) {
        const page: ReadAllPage = await (ahead ?? readPage(from));
        ahead = undefined;
        failures = 0;
        const next: Position | 'start' = page.nextPosition ?? from;
        if (!page.isEnd && page.events.length > 0) ahead = readPage(next);
        if (page.events.length > 0 || page.isEnd) {
          yield { events: page.events, caughtUp: page.isEnd };
        }
        after = from = next;
        if (page.isEnd) caughtUp = true;
        if (signal.aborted) return;
      }
      if (isPolled(store)) {
        const tail = sharedLogTail(store);
        const membership = tail.join(filter);
        try {
          for (;;) {
            const askedAt = wallClockMs();
            let emptyReads = 0;
            for (;;) {
              const startedAt = wallClockMs();
              const from = after === 'start' ? undefined : after;
              const page: ReadAllPage =
                (await tail.read(from, batchSize, filter)) ??
                (await store.readAll({
                  ...(from === undefined ? {} : { after: from }),
                  maxCount: batchSize,
                  filter,
                }));
              failures = 0;
              after = page.nextPosition ?? after;
              if (signal.aborted) return;
              if (page.events.length > 0) {
                yield {
                  events: page.events,
                  caughtUp: true,
                  reading: { askedAt, startedAt, endedAt: wallClockMs(), emptyReads },
                };
                break;
              }
              emptyReads++;
              await tail.waitForMore(page, signal);
              if (signal.aborted) return;
            }
          }
        } finally {
          tail.leave(membership);
        }
      }
      const live = store.subscribe({ from: after, filter, signal })[Symbol.asyncIterator]();
      try {
        for (;;) {
          const events = await takeBatch(live, batchSize);
          failures = 0;
          if (events.length === 0 || signal.aborted) return;
          after = events[events.length - 1]!.position;
          yield { events, caughtUp: true };
        }
      } finally {
        // Not awaited: a read still in flight would hold it up, and the signal ends that read.
        live.return?.().catch(() => undefined);
      }
    } catch (error) {
      if (signal.aborted) return;
      failures++;
      options.onReadError?.(error, failures);
      const first = options.retryDelayMs ?? 100;
      await abortableSleep(Math.min(options.maxRetryDelayMs ?? 5_000, first * 2 ** (failures - 1)), signal);
    }
  }
}

export interface FoldLogOptions extends Omit<FollowLogOptions, 'from'> {
  readonly from: Position | 'start' | 'end';
  /** Folds one event into the reader's state; an event it throws on is read again later. */
  readonly apply: (event: RecordedEvent) => void;
  /** Told at each batch from the one that reached the end of the log as it stood at the start. */
  readonly onCaughtUp?: () => void;
  /** Told that applying an event failed; folding starts again at that event after `restartDelayMs`. */
  readonly onApplyError: (error: unknown) => void;
  readonly restartDelayMs: number;
}

/**
 * Folds the log into an in-memory state for as long as the signal allows: the loop of the readers
 * that keep their own copy of part of the log (the API-key registry, the cached tenant states).
 * A failed read is retried by followLog; an event the reader cannot apply stops the fold, which
 * starts again at that very event after a pause, so none is ever skipped.
 */
export async function foldLog(options: FoldLogOptions): Promise<void> {
  const { apply, onCaughtUp, onApplyError, restartDelayMs, ...follow } = options;
  let from = options.from;
  while (!options.signal.aborted) {
    try {
      for await (const { events, caughtUp } of followLog({ ...follow, from })) {
        for (const recorded of events) {
          apply(recorded);
          from = recorded.position;
        }
        if (caughtUp) onCaughtUp?.();
      }
    } catch (error) {
      onApplyError(error);
      await abortableSleep(restartDelayMs, options.signal);
    }
  }
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function isPolled(store: EventStore): store is PolledStore {
  return typeof store.waitForMore === 'function';
}

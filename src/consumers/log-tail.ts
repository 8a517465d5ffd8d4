import type {
  EventFilter,
  EventStore,
  Position,
  ReadAllPage,
  RecordedEvent,
} from '../event-store/event-store.port.js';
import { matchesFilter } from '../event-store/event-filter.js';

/** A store whose live log is read by polling (see EventStore.waitForMore). */
export type PolledStore = EventStore & Required<Pick<EventStore, 'waitForMore'>>;

export interface LogTailOptions {
  /** Most events one read of the store adds to the tail. */
  readonly readSize?: number;
  /** Most events the tail keeps; beyond that it forgets the oldest half. */
  readonly maxEvents?: number;
}

/** A contiguous stretch of the log: every event matching the tail's filter in (from, to]. */
interface Stretch {
  /** Exclusive; undefined: the start of the log. */
  from: Position | undefined;
  /** The head of the log (or of the last page) at the read that extended it; undefined: empty log. */
  to: Position | undefined;
  readonly events: RecordedEvent[];
  /** The last read reached the head of the log (it did not stop at its size). */
  atHead: boolean;
  /** The tail's change count when the last read that extended it started. */
  readAtChange: number;
}

const EMPTY_PAGE: ReadAllPage = { events: [], nextPosition: undefined, isEnd: true };

/** Why a read's retry wait ends early: a later read's wait takes its place. */
const SUPERSEDED = new Error('superseded by a later read of the log');

/**
 * The live end of the log, read once for every follower of the same store in this process.
 *
 * Every projection, process manager and key registry of an instance follows the same log, and once
 * caught up they all want the same few new events at the same moment: each reading them for itself
 * cost the database and this process one query per follower per append, and under a steady stream
 * of appends (or while the log is held back and followers poll) that was most of what a quiet
 * service did. The tail keeps the latest stretch of the log (for the union of its followers'
 * filters) and extends it with one read whenever a follower asks after the log may have grown;
 * followers take their events from it, filtered here. A follower asking for something older than
 * the stretch (it fell far behind) is told to read the store itself.
 *
 * Correct because the store's pages are final: everything up to a page's end position that
 * matches the filter is in the page, and nothing can be added before that position later.
 */
export class LogTail {
  private readonly followers = new Map<symbol, EventFilter | undefined>();
  private filter: EventFilter | undefined;
  private stretch: Stretch | undefined;
  /** Counts the moments the log may have grown since the tail began watching it. */
  private changes = 0;
  private changed: { promise: Promise<void>; resolve: () => void } = deferred();
  private watching: AbortController | undefined;
  private retry: AbortController | undefined;
  private reading: Promise<void> | undefined;
  /** Pages served from the stretch, with the change count they were fresh at. */
  private readonly served = new WeakMap<ReadAllPage, number>();
  private readonly readSize: number;
  private readonly maxEvents: number;

  constructor(
    private readonly store: PolledStore,
    options: LogTailOptions = {},
  ) {
    this.readSize = options.readSize ?? 1_000;
    this.maxEvents = options.maxEvents ?? 5_000;
  }

  /** A follower starts taking its events from the tail; give the returned key to leave(). */
  join(filter: EventFilter | undefined): symbol {
    const key = Symbol('follower');
    this.followers.set(key, filter);
    this.refilter();
    if (!this.watching) {
      this.watching = new AbortController();
      void this.watch(this.watching.signal);
    }
    return key;
  }

  leave(key: symbol): void {
    this.followers.delete(key);
    this.refilter();
    if (this.followers.size === 0) {
      this.watching?.abort();
      this.watching = undefined;
      this.retry = undefined;
    }
  }

  /**
   * Up to `maxCount` events after `after` that match `filter` (which must be a joined follower's),
   * as a page of the store would give them; undefined when `after` lies before what the tail
   * holds, and the follower must read the store itself.
   */
  async read(
    after: Position | undefined,
    maxCount: number,
    filter: EventFilter | undefined,
  ): Promise<ReadAllPage | undefined> {
    // What a read must show: every change seen up to now. Later ones are the next read's: chasing
    // them would keep a follower reading for as long as appends keep coming.
    const asked = this.changes;
    for (;;) {
      const stretch = this.stretch;
      if (!stretch) {
        await this.extend(undefined, after);
        continue;
      }
      if (!this.notBefore(after, stretch.from)) return undefined;
      if (!this.notBefore(stretch.to, after)) {
        if (stretch.atHead && stretch.readAtChange >= asked) {
          // Past the end of the log as it stood after every change seen (a position no event has
          // yet): nothing until it grows. Extending again would read the same end over and over.
          const page: ReadAllPage = { events: [], nextPosition: after, isEnd: true };
          this.served.set(page, stretch.readAtChange);
          return page;
        }
        // Newer than the stretch (a follower that started at the head): extend it up to there.
        await this.extend(stretch, stretch.to);
        continue;
      }
      const events: RecordedEvent[] = [];
      let index = this.firstAfter(stretch.events, after);
      for (; index < stretch.events.length && events.length < maxCount; index++) {
        const event = stretch.events[index] as RecordedEvent;
        if (matchesFilter(filter, event)) events.push(event);
      }
      if (events.length === maxCount && index < stretch.events.length) {
        return { events, nextPosition: events[events.length - 1]?.position, isEnd: false };
      }
      // The whole stretch after `after` was looked at.
      if (stretch.readAtChange >= asked && stretch.atHead) {
        const page: ReadAllPage = { events, nextPosition: stretch.to ?? after, isEnd: true };
        this.served.set(page, stretch.readAtChange);
        return page;
      }
      if (events.length > 0) return { events, nextPosition: stretch.to ?? after, isEnd: false };
      await this.extend(stretch, stretch.to);
    }
  }

  /**
   * Waits until the log may have grown after `page`, as EventStore.waitForMore does: for a page
   * the tail served, until the tail sees a change (every waiting follower at the same moment).
   */
  async waitForMore(page: ReadAllPage, signal: AbortSignal): Promise<boolean> {
    const servedAt = this.served.get(page);
    if (servedAt === undefined) return this.store.waitForMore(page, signal);
    if (signal.aborted) return false;
    if (this.changes > servedAt) return true;
    let stop: (() => void) | undefined;
    const aborted = new Promise<boolean>((resolve) => {
      stop = () => resolve(false);
      signal.addEventListener('abort', stop, { once: true });
    });
    try {
      return await Promise.race([this.changed.promise.then(() => true), aborted]);
    } finally {
      if (stop) signal.removeEventListener('abort', stop);
    }
  }

  /**
   * Watches, for as long as the tail has followers, for appends (announced) and polls: between two
   * of them a read of the tail is as good as a read of the store. Watching all the time, not only
   * while a follower waits, so that an append while every follower was busy is not missed.
   */
  private async watch(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.store.waitForMore(EMPTY_PAGE, signal);
      } catch {
        // A store that cannot wait now: look again after a while, as a poll would.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (!signal.aborted) this.changeSeen();
    }
  }

  /**
   * After each read of the store: whatever the store knows about that read decides when to look
   * again without an announcement (a log held back behind a running transaction: soon). Only the
   * latest read's wait runs; an announced append is counted by the watch, not here.
   */
  private retryAfter(page: ReadAllPage): void {
    // With a reason of its own: abort() without one builds a DOMException, stack and all, and this
    // runs after every read of the log.
    this.retry?.abort(SUPERSEDED);
    const lifetime = this.watching;
    if (!lifetime) return;
    const retry = new AbortController();
    this.retry = retry;
    const stop = (): void => retry.abort();
    lifetime.signal.addEventListener('abort', stop, { once: true });
    this.store.waitForMore(page, retry.signal).then(
      (woken) => {
        lifetime.signal.removeEventListener('abort', stop);
        if (!woken && !retry.signal.aborted) this.changeSeen();
      },
      () => lifetime.signal.removeEventListener('abort', stop),
    );
  }

  private changeSeen(): void {
    this.changes++;
    const changed = this.changed;
    this.changed = deferred();
    changed.resolve();
  }

  /** Reads the store after `from`: a new stretch (none yet) or the given one, extended. */
  private async extend(stretch: Stretch | undefined, from: Position | undefined): Promise<void> {
    if (this.reading) {
      // One read at a time, shared: the caller looks again at whatever it brought.
      await this.reading;
      return;
    }
    const changes = this.changes;
    const filter = this.filter;
    this.reading = (async () => {
      const page = await this.store.readAll({
        ...(from === undefined ? {} : { after: from }),
        maxCount: this.readSize,
        ...(filter ? { filter } : {}),
      });
      // Followers came or went meanwhile and the filter changed: this read is of no use.
      if (this.filter !== filter || this.stretch !== stretch) return;
      this.retryAfter(page);
      const to = page.nextPosition ?? from;
      if (!stretch) {
        this.stretch = {
          from,
          to,
          events: [...page.events],
          atHead: page.isEnd,
          readAtChange: changes,
        };
        return;
      }
      stretch.events.push(...page.events);
      stretch.to = to;
      stretch.atHead = page.isEnd;
      stretch.readAtChange = changes;
      if (stretch.events.length > this.maxEvents) {
        const dropped = stretch.events.splice(0, stretch.events.length - Math.floor(this.maxEvents / 2));
        stretch.from = dropped[dropped.length - 1]?.position ?? stretch.from;
      }
    })();
    try {
      await this.reading;
    } finally {
      this.reading = undefined;
    }
  }

  /** The union of the followers' filters; the stretch is dropped when it changes. */
  private refilter(): void {
    const filters = [...this.followers.values()];
    const next = union(filters);
    if (JSON.stringify(next) !== JSON.stringify(this.filter)) {
      this.stretch = undefined;
      this.filter = next;
    }
    if (filters.length === 0) this.stretch = undefined;
  }

  /** Whether position `a` is at or after `b` (undefined: the start of the log). */
  private notBefore(a: Position | undefined, b: Position | undefined): boolean {
    if (b === undefined) return true;
    if (a === undefined) return false;
    return this.store.comparePositions(a, b) >= 0;
  }

  private firstAfter(events: readonly RecordedEvent[], after: Position | undefined): number {
    if (after === undefined) return 0;
    let low = 0;
    let high = events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.store.comparePositions((events[middle] as RecordedEvent).position, after) <= 0)
        low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

const tails = new WeakMap<EventStore, LogTail>();

/** The tail shared by every follower of this store in the process. */
export function sharedLogTail(store: PolledStore): LogTail {
  let tail = tails.get(store);
  if (!tail) {
    tail = new LogTail(store);
    tails.set(store, tail);
  }
  return tail;
}

/** A filter every event matching any of `filters` matches; undefined when that is every event. */
function union(filters: readonly (EventFilter | undefined)[]): EventFilter | undefined {
  if (filters.length === 0) return undefined;
  const prefixes: string[] = [];
  const types = new Set<string>();
  let allTyped = true;
  for (const filter of filters) {
    // One stream's name is a prefix that covers it (and maybe more: the union only has to cover).
    if (filter?.stream !== undefined) prefixes.push(filter.stream);
    else if (filter?.streamPrefixes?.length) prefixes.push(...filter.streamPrefixes);
    else return undefined;
    if (filter.eventTypes?.length) filter.eventTypes.forEach((type) => types.add(type));
    else allTyped = false;
  }
  // A prefix that another one starts covers adds nothing.
  const kept = [...new Set(prefixes)]
    .sort()
    .filter((prefix, index, sorted) => !sorted.slice(0, index).some((shorter) => prefix.startsWith(shorter)));
  return { streamPrefixes: kept, ...(allTyped ? { eventTypes: [...types].sort() } : {}) };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

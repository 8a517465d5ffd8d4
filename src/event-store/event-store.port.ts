/**
 * The EventStore port: the only way the service talks to its event log. Two adapters implement it
 * (PostgreSQL, the embedded default, and EventStoreDB/KurrentDB); one contract suite
 * (test/event-store/event-store.contract.ts) pins the behaviour both must share.
 */

/** A JSON object: events are stored as JSON, so data and metadata must survive a JSON round trip. */
export type JsonObject = { readonly [key: string]: unknown };

/**
 * What a stream must look like for an append to go ahead:
 * - 'any': no check;
 * - 'no_stream': the stream must not exist yet;
 * - 'stream_exists': the stream must hold at least one event;
 * - a number: the revision of the stream's last event (the first event of a stream has revision 0).
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

/**
 * A position in the global log. Opaque: callers store it and hand it back, and compare two
 * positions only through EventStore.comparePositions. Each adapter encodes its own.
 */
export type Position = string & { readonly __brand: 'Position' };

export interface EventToAppend {
  /** A UUID; generated when absent. */
  readonly id?: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata?: JsonObject;
}

export interface RecordedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
  readonly streamName: string;
  /** 0-based position of the event inside its stream. */
  readonly revision: number;
  /** Position in the global log. */
  readonly position: Position;
  readonly recordedAt: Date;
}

export interface AppendResult {
  /** The revision of the last event written: the expected revision of the next append. */
  readonly nextExpectedRevision: number;
  /** Global position of the last event written. */
  readonly position: Position;
}

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive start revision; the default is the start (forwards) or the end (backwards). */
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

/**
 * Server-side filter for log reads and subscriptions. Inside a list the entries are alternatives;
 * every condition given must hold.
 */
export interface EventFilter {
  readonly streamPrefixes?: readonly string[];
  readonly eventTypes?: readonly string[];
  /**
   * One stream's events only, still in log order. Not a prefix of one name: a store can read one
   * stream's part of the log at the cost of the page, whatever else the log holds.
   */
  readonly stream?: string;
}

export interface ReadAllOptions {
  /** Exclusive: the page starts after this position. Absent: from the start of the log. */
  readonly after?: Position;
  readonly maxCount: number;
  readonly filter?: EventFilter;
}

export interface CountEventsOptions {
  /** Exclusive: count the events after this position. Absent: from the start of the log. */
  readonly after?: Position;
  readonly filter?: EventFilter;
  /** Counting stops here: the answer is at most this. */
  readonly limit: number;
}

export interface ReadAllPage {
  readonly events: readonly RecordedEvent[];
  /**
   * Where the next page starts (pass as `after`). It can move past the last event of the page
   * when a filter skipped events, so a filtered reader does not rescan them.
   */
  readonly nextPosition: Position | undefined;
  /** True when the reader has reached the current end of the log. */
  readonly isEnd: boolean;
}

export interface SubscribeOptions {
  /** Exclusive start position; 'start' delivers the whole log, 'end' only what comes next. */
  readonly from: Position | 'start' | 'end';
  readonly filter?: EventFilter;
  /** Ends the subscription: the iterator finishes cleanly. */
  readonly signal?: AbortSignal;
}

export interface EventStore {
  appendToStream(
    streamName: string,
    events: readonly EventToAppend[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult>;

  /** Events of one stream; an unknown stream yields nothing. */
  readStream(streamName: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;

  /** The revision of the stream's last event, or undefined when the stream does not exist. */
  streamRevision(streamName: string): Promise<number | undefined>;

  /** One page of the global log, in log order. */
  readAll(options: ReadAllOptions): Promise<ReadAllPage>;

  /**
   * How many events of the log after `after` match the filter, up to `limit`: what readAll would
   * return over as many pages, counted without handing the events over where the store can (a
   * consumer's lag needs their number, not their data).
   */
  countEvents(options: CountEventsOptions): Promise<number>;

  /**
   * The log from a position on, in order, then live. Pull-based: the store reads ahead only as the
   * consumer asks for more, so a slow consumer never makes it buffer without bound.
   */
  subscribe(options: SubscribeOptions): AsyncIterable<RecordedEvent>;

  /**
   * Optional, for a store whose live log is read by polling (PostgreSQL): resolves once a read
   * after `page`, which reached the end of the log, may find more: true when the log grew (an
   * append was announced), false when it is only worth looking again (a poll interval passed,
   * events held back behind a running transaction may have become readable) or the signal
   * aborted. A follower of such a store reads pages on demand, when its reader asks for more,
   * instead of through subscribe: whatever has arrived by then comes in one batch.
   */
  waitForMore?(page: ReadAllPage, signal: AbortSignal): Promise<boolean>;

  /** Negative when a is before b, 0 when equal, positive when after. */
  comparePositions(a: Position, b: Position): number;

  /** The position of the log's last readable event, or undefined for an empty log. */
  headPosition(): Promise<Position | undefined>;

  /**
   * The position of the newest committed event, or undefined for an empty log: headPosition's, or
   * a later one where readers cannot reach it yet (PostgreSQL: an older transaction is still open).
   * No append of this log has answered a position after it.
   */
  lastPosition(): Promise<Position | undefined>;

  close(): Promise<void>;
}

/** An optimistic-concurrency expectation was not met. The same error for every adapter. */
export class ConcurrencyError extends Error {
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    /** The stream's revision at the time of the append, or 'no_stream'. */
    readonly actual: number | 'no_stream',
  ) {
    super(`Stream ${streamName}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'ConcurrencyError';
  }
}

/** Injection token for the EventStore port. */
export const EVENT_STORE = Symbol('EventStore');

/**
 * The store could not be reached (down, restarting, failing over). The same error for every
 * adapter, so that callers answer "retry later" rather than "failed".
 */
export class EventStoreUnavailableError extends Error {
  constructor(override readonly cause: unknown) {
    super(`the event store is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'EventStoreUnavailableError';
  }
}

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  ConcurrencyError,
  type AppendResult,
  type CountEventsOptions,
  type EventFilter,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type JsonObject,
  type Position,
  type ReadAllOptions,
  type ReadAllPage,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from '../event-store.port.js';
import { comparePositions, decodePosition, encodePosition } from '../position.js';
import { assertAppendable } from '../append-validation.js';
import { AppendBatcher, type AppendOutcomeRow } from './append-batcher.js';
import { LogChangeNotifier, WAKE_SETTLE_MS } from './log-change-notifier.js';

const UNIQUE_VIOLATION = '23505';

const STREAM_PAGE_SIZE = 1000;
const SUBSCRIPTION_PAGE_SIZE = 500;

export interface PostgresEventStoreOptions {
  /** How long an idle subscriber waits for a notification before it polls anyway. */
  readonly pollIntervalMs?: number;
  /**
   * How soon a subscriber looks again while committed events are held back behind a transaction
   * that is still running (they become readable the moment it ends, which may not be announced).
   */
  readonly heldBackRetryMs?: number;
  /**
   * The longest a woken subscriber waits for the appends of this process that were under way when
   * it woke (see waitForMore); WAKE_SETTLE_MS unless set.
   */
  readonly wakeSettleMs?: number;
}

interface EventRow {
  event_id: string;
  event_type: string;
  data: JsonObject;
  metadata: JsonObject;
  stream_name: string;
  stream_revision: number;
  position: string;
  recorded_at_ms: number;
}

const READ_STREAM_FORWARDS = {
  name: 'es_read_stream_forwards',
  text: `SELECT ${eventColumns('e')} FROM events e WHERE e.stream_name = $1 AND e.stream_revision >= $2
         ORDER BY e.stream_revision LIMIT $3`,
};
const READ_STREAM_BACKWARDS = {
  name: 'es_read_stream_backwards',
  text: `SELECT ${eventColumns('e')} FROM events e WHERE e.stream_name = $1 AND e.stream_revision <= $2
         ORDER BY e.stream_revision DESC LIMIT $3`,
};

/**
 * The horizon of the PostgreSQL log (docs/adr/0002): every event below it is committed for good,
 * and no event can still appear below it. It is the oldest transaction still running in the
 * statement's snapshot, passing over those declared in log_horizon_exemptions (migration 0007,
 * src/database/log-horizon-exemptions.ts), or the snapshot's end when none is left. Written out in
 * each condition: an uncorrelated subquery is evaluated once per statement, so each condition can
 * still use the (transaction_id, global_position) index.
 */
const HORIZON = `coalesce(
    (SELECT min(running) FROM pg_snapshot_xip(pg_current_snapshot()) AS running
     WHERE NOT EXISTS (SELECT 1 FROM log_horizon_exemptions x WHERE x.transaction_id = running)),
    pg_snapshot_xmax(pg_current_snapshot()))`;

/**
 * The events after the position given as $1 (a transaction id, as text) and $2 (a global position),
 * up to the horizon: what readAll's pages hold, and what countEvents counts.
 */
const AFTER_POSITION = `(e.transaction_id, e.global_position) > ($1::text::xid8, $2::bigint)
           AND e.transaction_id < ${HORIZON}`;

/** The largest value of a bigint column: no global_position is larger. */
const MAX_BIGINT = 2n ** 63n - 1n;

/**
 * AFTER_POSITION's parameters for a position: the start of the log when there is none. A position
 * is two unsigned 64-bit numbers, but global_position is a signed bigint: a position past every
 * sequence value PostgreSQL can hold (well-formed, but from no log of this store) means the same
 * as one at the largest, and must not fail as a value out of range.
 */
function afterBounds(position: Position | undefined): { transactionId: string; globalPosition: string } {
  const { major, minor } = position ? decodePosition(position) : { major: 0n, minor: 0n };
  return {
    transactionId: major.toString(),
    globalPosition: (minor > MAX_BIGINT ? MAX_BIGINT : minor).toString(),
  };
}

/**
 * Whether committed events lie beyond the horizon, held back behind a transaction still running.
 * Asked as "is the log's last visible transaction at or past the horizon", which is always planned
 * as a step back from the end of the index. Asked as EXISTS (an event at or past the horizon), it
 * was planned as a scan of the whole table whenever the table had no statistics yet (a log just
 * written in a burst, restored or imported, until autovacuum's next round): the planner expected
 * a third of the log to match and the scan to stop at once, while nothing matched. A read at the
 * head of an 80,000-event log took 10-15 ms, against 0.33 ms once the table was analysed.
 */
const HELD_BACK = `coalesce((SELECT last.transaction_id FROM events last
    ORDER BY last.transaction_id DESC, last.global_position DESC LIMIT 1) >= ${HORIZON}, false)`;

function eventColumns(alias: string): string {
  return ['event_id', 'event_type', 'data', 'metadata', 'stream_name', 'stream_revision']
    .map((column) => `${alias}.${column}`)
    .concat(
      // The position as encodePosition spells it, made by the server: made in the process, two
      // BigInts, their hex and its padding per event, it took 490 MB of the 4.2 GB a 1,000,000-event
      // rebuild allocated while it loaded (a sampling heap profile), and their collection with it.
      `lpad(to_hex(${alias}.transaction_id::text::bigint), 16, '0') || '-' || lpad(to_hex(${alias}.global_position), 16, '0') AS position`,
      // Milliseconds since the epoch, which is all a Date holds: read as a number, 1,000,000
      // events cost the process 6.8 s of CPU instead of 7.5 s with the timestamp's text parsed.
      `floor(extract(epoch FROM ${alias}.recorded_at) * 1000)::float8 AS recorded_at_ms`,
    )
    .join(', ');
}

/**
 * The PostgreSQL adapter of the EventStore port.
 *
 * Ordering: global_position comes from a sequence at INSERT time, so a transaction can hold an
 * earlier value yet commit after a later one. Readers therefore order by (transaction_id,
 * global_position) and only read rows whose transaction is older than the oldest transaction
 * still running (HORIZON: passing over those declared exempt, which append nothing). Such
 * rows can no longer change, and any transaction that commits later has a larger transaction id,
 * so "read after the last position seen" never skips an event that commits late.
 *
 * Appends made while others of this store are under way share a statement and a transaction
 * (AppendBatcher); each keeps its own expectation, outcome and position.
 */
export class PostgresEventStore implements EventStore {
  private readonly notifier: LogChangeNotifier;
  private readonly appends: AppendBatcher;
  /** Appends of this store sent and not yet answered: what a woken reader lets land first. */
  private readonly appendsInFlight = new Set<Promise<unknown>>();
  private readonly wakeSettleMs: number;
  private readonly pollIntervalMs: number;
  private readonly heldBackRetryMs: number;
  /**
   * Pages read up to a transaction still running: committed events may lie behind it, readable
   * the moment it ends, which may not be announced.
   */
  private readonly heldBackPages = new WeakSet<ReadAllPage>();
  /** Settles once the log was checked for statistics, before this store's first read of it. */
  private statistics: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    connectionString: string,
    options: PostgresEventStoreOptions = {},
  ) {
    this.notifier = new LogChangeNotifier(pool, connectionString);
    this.appends = new AppendBatcher(pool);
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.heldBackRetryMs = options.heldBackRetryMs ?? 5;
    this.wakeSettleMs = options.wakeSettleMs ?? WAKE_SETTLE_MS;
  }

  async appendToStream(
    streamName: string,
    events: readonly EventToAppend[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult> {
    assertAppendable(streamName, events, expectedRevision);
    let row: AppendOutcomeRow;
    // A failed expectation comes back as a row, not as an error: the pool destroys a client whose
    // query failed, and conflicts are the normal case between service instances.
    const answer = this.appends.append({
      streamName,
      expected: String(expectedRevision),
      ids: events.map((event) => event.id ?? randomUUID()),
      types: events.map((event) => event.type),
      data: events.map((event) => JSON.stringify(event.data)),
      metadata: events.map((event) => JSON.stringify(event.metadata ?? {})),
    });
    this.appendsInFlight.add(answer);
    try {
      row = await answer;
    } catch (error) {
      throw await this.translateAppendError(error, streamName, expectedRevision);
    } finally {
      this.appendsInFlight.delete(answer);
    }
    if (!row.appended) {
      throw new ConcurrencyError(streamName, expectedRevision, row.actual_revision ?? 'no_stream');
    }
    this.notifier.appended();
    return {
      nextExpectedRevision: row.next_revision as number,
      position: encodePosition(BigInt(row.transaction_id as string), BigInt(row.global_position as number)),
    };
  }

  async *readStream(streamName: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const backwards = options.direction === 'backwards';
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    let cursor = options.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
    while (remaining > 0) {
      const limit = Math.min(STREAM_PAGE_SIZE, remaining);
      const { rows } = await this.pool.query<EventRow>({
        ...(backwards ? READ_STREAM_BACKWARDS : READ_STREAM_FORWARDS),
        values: [streamName, cursor, limit],
      });
      for (const row of rows) yield toRecordedEvent(row);
      if (rows.length < limit) return;
      remaining -= rows.length;
      const last = rows[rows.length - 1] as EventRow;
      cursor = backwards ? last.stream_revision - 1 : last.stream_revision + 1;
      if (cursor < 0) return;
    }
  }

  async streamRevision(streamName: string): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ revision: number }>({
      name: 'es_stream_revision',
      text: 'SELECT revision FROM event_streams WHERE stream_name = $1',
      values: [streamName],
    });
    return rows[0]?.revision;
  }

  async readAll(options: ReadAllOptions): Promise<ReadAllPage> {
    const { heldBack, ...page } = await this.readPage(options);
    if (heldBack) this.heldBackPages.add(page);
    return page;
  }

  async countEvents(options: CountEventsOptions): Promise<number> {
    const after = afterBounds(options.after);
    const [filterSql, filterParams, filterShape] = filterClause(options.filter, 4);
    // The events readAll would return, counted on the server: a lag far behind costs an index
    // scan, not the transfer and decoding of thousands of events.
    const { rows } = await this.pool.query<{ count: number }>({
      name: `es_count_events${filterShape}`,
      text: `SELECT count(*)::int AS count FROM (
         SELECT 1 FROM events e
         WHERE ${AFTER_POSITION}
           ${filterSql}
         LIMIT $3
       ) counted`,
      values: [after.transactionId, after.globalPosition, options.limit, ...filterParams],
    });
    return rows[0]?.count ?? 0;
  }

  async waitForMore(page: ReadAllPage, signal: AbortSignal): Promise<boolean> {
    const woken = await this.notifier.waitForChange(
      this.heldBackPages.has(page) ? this.heldBackRetryMs : this.pollIntervalMs,
      signal,
    );
    // Appends of this process under way when the reader woke will wake it again in a moment: let
    // them land first (but wait no longer than wakeSettleMs), so that one read takes them all. Only
    // until they land: a wait of the whole settle time added all of it to the delay of any event
    // that woke its reader while another append happened to be under way. With none under way (a
    // steady trickle, or the change came from another process), the reader reads at once.
    if (woken && this.appendsInFlight.size > 0)
      await settled([...this.appendsInFlight], this.wakeSettleMs, signal);
    return woken;
  }

  async *subscribe(options: SubscribeOptions): AsyncIterable<RecordedEvent> {
    const { signal, filter } = options;
    let after: Position | undefined =
      options.from === 'start'
        ? undefined
        : options.from === 'end'
          ? await this.headPosition()
          : options.from;
    while (!signal?.aborted) {
      const page = await this.readPage({ after, maxCount: SUBSCRIPTION_PAGE_SIZE, filter });
      for (const event of page.events) {
        if (signal?.aborted) return;
        yield event;
      }
      after = page.nextPosition ?? after;
      if (page.isEnd) {
        const woken = await this.notifier.waitForChange(
          page.heldBack ? this.heldBackRetryMs : this.pollIntervalMs,
          signal,
        );
        if (woken) await sleep(this.wakeSettleMs, signal);
      }
    }
  }

  comparePositions(a: Position, b: Position): number {
    return comparePositions(a, b);
  }

  headPosition(): Promise<Position | undefined> {
    return this.newestPosition('es_head_position', `WHERE e.transaction_id < ${HORIZON}`);
  }

  lastPosition(): Promise<Position | undefined> {
    return this.newestPosition('es_last_position', '');
  }

  private async newestPosition(name: string, where: string): Promise<Position | undefined> {
    // The text form gets its own name: ordering by a column named transaction_id would otherwise
    // sort the text, where '997' comes after '1315'.
    const { rows } = await this.pool.query<{ txid: string; global_position: number }>({
      name,
      text: `SELECT e.transaction_id::text AS txid, e.global_position FROM events e ${where}
       ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1`,
    });
    const row = rows[0];
    return row ? encodePosition(BigInt(row.txid), BigInt(row.global_position)) : undefined;
  }

  async close(): Promise<void> {
    await this.notifier.close();
  }

  private async readPage(options: ReadAllOptions): Promise<ReadAllPage & { heldBack: boolean }> {
    await (this.statistics ??= this.ensureStatistics());
    const after = afterBounds(options.after);
    const [filterSql, filterParams, filterShape] = filterClause(options.filter, 4);
    // One statement, so the page, the head and the held-back check share one snapshot.
    const { rows } = await this.pool.query<
      EventRow & { head_txid: string | null; head_position: number | null; held_back: boolean }
    >({
      // Named, so each connection plans it once: parsing and planning cost a quiet log's reader
      // several times what running it does.
      name: `es_read_page${filterShape}`,
      text: `WITH page AS (
         SELECT ${eventColumns('e')}
         FROM events e
         WHERE ${AFTER_POSITION}
           ${filterSql}
         ORDER BY e.transaction_id, e.global_position
         LIMIT $3
       ),
       head AS (
         SELECT e.transaction_id::text AS head_txid, e.global_position AS head_position
         FROM events e
         WHERE e.transaction_id < ${HORIZON}
         ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1
       )
       SELECT page.*, head.head_txid, head.head_position, ${HELD_BACK} AS held_back
       FROM head LEFT JOIN page ON true`,
      values: [after.transactionId, after.globalPosition, options.maxCount, ...filterParams],
    });
    const first = rows[0];
    if (!first) {
      // Nothing readable in the log at all.
      return { events: [], nextPosition: options.after, isEnd: true, heldBack: await this.anyHeldBack() };
    }
    const events = rows.filter((row) => row.event_id !== null).map(toRecordedEvent);
    const head = encodePosition(BigInt(first.head_txid ?? '0'), BigInt(first.head_position ?? 0));
    const isEnd = events.length < options.maxCount;
    const lastEvent = events[events.length - 1];
    // A short filtered page scanned everything up to the head, so the next read can start there.
    const nextPosition = isEnd ? maxPosition(head, options.after) : lastEvent?.position;
    return { events, nextPosition, isEnd, heldBack: first.held_back };
  }

  /**
   * Analyses the log if it holds events but has no statistics: one restored, imported or written in
   * a burst, before autovacuum's next round. Without them the planner takes a third of the log to
   * lie after any position, and planned each of a connection's first five pages of a catch-up as a
   * scan of everything after the position, then a sort: 366-393 ms a page of 1,000 events on a
   * 300,000-event log instead of 5-13 ms, a time that grows with the log. Best effort: a server
   * that refuses (a read-only standby, a user who does not own the table) is read all the same.
   */
  private async ensureStatistics(): Promise<void> {
    try {
      const { rows } = await this.pool.query<{ unanalysed: boolean }>({
        name: 'es_unanalysed',
        text: `SELECT EXISTS (SELECT 1 FROM events)
          AND NOT EXISTS (
            SELECT 1 FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename
              JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname
            WHERE c.oid = 'events'::regclass AND s.attname = 'transaction_id') AS unanalysed`,
      });
      if (rows[0]?.unanalysed) await this.pool.query('ANALYZE events');
    } catch {
      // Only the plans suffer; the reads are right either way.
    }
  }

  private async anyHeldBack(): Promise<boolean> {
    const { rows } = await this.pool.query<{ held_back: boolean }>({
      name: 'es_any_held_back',
      text: `SELECT ${HELD_BACK} AS held_back`,
    });
    return rows[0]?.held_back ?? false;
  }

  private async translateAppendError(
    error: unknown,
    streamName: string,
    expected: ExpectedRevision,
  ): Promise<unknown> {
    if (!(error instanceof pg.DatabaseError)) return error;
    if (error.code === UNIQUE_VIOLATION && error.constraint === 'events_stream_revision_unique') {
      // Unreachable while es_try_append holds the stream row lock; kept so a broken invariant still
      // surfaces as a conflict rather than a server error.
      return new ConcurrencyError(
        streamName,
        expected,
        (await this.streamRevision(streamName)) ?? 'no_stream',
      );
    }
    return error;
  }
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    type: row.event_type,
    data: row.data,
    metadata: row.metadata,
    streamName: row.stream_name,
    revision: row.stream_revision,
    position: row.position as Position,
    recordedAt: new Date(row.recorded_at_ms),
  };
}

function maxPosition(a: Position, b: Position | undefined): Position {
  return b !== undefined && comparePositions(b, a) > 0 ? b : a;
}

/** The filter as SQL, its parameters, and a name for its shape (the SQL differs only by shape). */
function filterClause(filter: EventFilter | undefined, firstParam: number): [string, unknown[], string] {
  const clauses: string[] = [];
  const params: unknown[] = [];
  let shape = '';
  if (filter?.streamPrefixes && filter.streamPrefixes.length > 0) {
    params.push(filter.streamPrefixes.map((prefix) => `${escapeLike(prefix)}%`));
    clauses.push(`AND e.stream_name LIKE ANY ($${firstParam + params.length - 1}::text[])`);
    shape += '_prefixes';
  }
  if (filter?.eventTypes && filter.eventTypes.length > 0) {
    params.push(filter.eventTypes);
    clauses.push(`AND e.event_type = ANY ($${firstParam + params.length - 1}::text[])`);
    shape += '_types';
  }
  if (filter?.stream !== undefined) {
    // Read through events_stream_position (migration 0006): the stream's rows after the position,
    // in log order, so a page costs its own rows even where the statistics know nothing of the
    // stream (a prefix can only be a filter, and was then planned as a scan of the rest of the log).
    params.push(filter.stream);
    clauses.push(`AND e.stream_name = $${firstParam + params.length - 1}::text`);
    shape += '_stream';
  }
  return [clauses.join(' '), params, shape];
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/** Resolves once every one of `pending` has settled, after `ms` at most, or at once on abort. */
function settled(pending: readonly Promise<unknown>[], ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    void Promise.allSettled(pending).then(done);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

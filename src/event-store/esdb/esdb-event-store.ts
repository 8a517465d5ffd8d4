import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  START,
  type AppendResult as ClientAppendResult,
  type StreamingRead,
} from '@eventstore/db-client';
import { assertAppendable } from '../append-validation.js';
import {
  ConcurrencyError,
  EventStoreUnavailableError,
  type AppendResult,
  type CountEventsOptions,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type Position,
  type ReadAllOptions,
  type ReadAllPage,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from '../event-store.port.js';
import { comparePositions } from '../position.js';
import { ConnectionStateTracker, type ConnectionState } from './connection-state.js';
import { toClientConnectionString } from './esdb-connection-string.js';
import {
  isStreamNotFound,
  recordPosition,
  toClientExpectedRevision,
  toClientPosition,
  toConcurrencyError,
  toEventData,
  toPortPosition,
  toRecordedEvent,
} from './esdb-event-mapping.js';
import { matchesFilter } from '../event-filter.js';
import { buildServerFilter } from './esdb-filter.js';
import { collectLogPage, scanLimitFor } from './esdb-log-page.js';
import { DEFAULT_RECONNECT_POLICY, isConnectionError, type ReconnectPolicy } from './reconnect-policy.js';
import { resumableSubscription } from './resumable-subscription.js';

/** Events per read of $all when counting a stretch of the log. */
const COUNT_PAGE_SIZE = 1_000;

/** The calls the adapter makes; a structural subset so unit tests can stand in for a server. */
export type EsdbClient = Pick<
  EventStoreDBClient,
  'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'dispose'
>;

export interface EsdbEventStoreOptions {
  readonly reconnectPolicy?: ReconnectPolicy;
  /** Test seams for the reconnect backoff. */
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

/**
 * The EventStoreDB/KurrentDB adapter of the EventStore port, on @eventstore/db-client.
 *
 * Positions are the server's (commit, prepare) pair, encoded like every position of the port.
 * Reads of $all are filtered on the client (this client version sends no filter with a read);
 * subscriptions filter on the server as far as its filters reach and finish on the client.
 */
export class EsdbEventStore implements EventStore {
  private readonly connection = new ConnectionStateTracker();
  private readonly reconnectPolicy: ReconnectPolicy;

  constructor(
    private readonly client: EsdbClient,
    private readonly options: EsdbEventStoreOptions = {},
  ) {
    this.reconnectPolicy = options.reconnectPolicy ?? DEFAULT_RECONNECT_POLICY;
  }

  async appendToStream(
    streamName: string,
    events: readonly EventToAppend[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult> {
    assertAppendable(streamName, events, expectedRevision);
    let result: ClientAppendResult;
    try {
      result = await this.client.appendToStream(streamName, events.map(toEventData), {
        expectedRevision: toClientExpectedRevision(expectedRevision),
      });
    } catch (error) {
      this.connection.failed(error);
      throw (
        toConcurrencyError(error, streamName, expectedRevision) ??
        (isConnectionError(error) ? new EventStoreUnavailableError(error) : error)
      );
    }
    this.connection.succeeded();
    if (!result.success) {
      // Only with throwOnAppendFailure=false in the connection string; the client's revision in
      // that answer is unreliable in 6.x (batch appends report a boolean), so ask the stream.
      throw new ConcurrencyError(
        streamName,
        expectedRevision,
        (await this.streamRevision(streamName)) ?? 'no_stream',
      );
    }
    return {
      nextExpectedRevision: Number(result.nextExpectedRevision),
      position: result.position
        ? toPortPosition(result.position)
        : await this.lastPositionOf(streamName, result.nextExpectedRevision),
    };
  }

  async *readStream(streamName: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    if (options.maxCount !== undefined && options.maxCount <= 0) return;
    const backwards = options.direction === 'backwards';
    const read = this.client.readStream(streamName, {
      direction: backwards ? BACKWARDS : FORWARDS,
      fromRevision:
        options.fromRevision !== undefined ? BigInt(options.fromRevision) : backwards ? END : START,
      ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
    });
    yield* this.mapRead(read);
  }

  async streamRevision(streamName: string): Promise<number | undefined> {
    const read = this.client.readStream(streamName, { direction: BACKWARDS, fromRevision: END, maxCount: 1 });
    try {
      return await this.consume(read, async (records) => {
        for await (const record of records) {
          if (record.event) return Number(record.event.revision);
        }
        return undefined;
      });
    } catch (error) {
      if (isStreamNotFound(error)) return undefined;
      throw error;
    }
  }

  async readAll(options: ReadAllOptions): Promise<ReadAllPage> {
    const scanLimit = scanLimitFor(options.maxCount);
    const read = this.client.readAll({
      direction: FORWARDS,
      fromPosition: options.after !== undefined ? toClientPosition(options.after) : START,
      maxCount: scanLimit,
    });
    return this.consume(read, (records) =>
      collectLogPage(records, {
        after: options.after,
        maxCount: options.maxCount,
        filter: options.filter,
        scanLimit,
      }),
    );
  }

  async countEvents(options: CountEventsOptions): Promise<number> {
    // The server has no count of a filtered stretch of $all: read it page by page, up to the limit.
    let counted = 0;
    let after = options.after;
    while (counted < options.limit) {
      const page = await this.readAll({
        ...(after === undefined ? {} : { after }),
        maxCount: Math.min(COUNT_PAGE_SIZE, options.limit - counted),
        ...(options.filter === undefined ? {} : { filter: options.filter }),
      });
      counted += page.events.length;
      if (page.isEnd || page.nextPosition === undefined) break;
      after = page.nextPosition;
    }
    return counted;
  }

  async *subscribe(options: SubscribeOptions): AsyncIterable<RecordedEvent> {
    const { filter, signal } = options;
    if (signal?.aborted) return;
    // 'end' becomes a concrete position, so a subscription that drops before its first event
    // resumes from where it started instead of from a later end, losing what came in between.
    const after =
      options.from === 'start'
        ? undefined
        : options.from === 'end'
          ? await this.lastRecordPosition()
          : options.from;
    // A malformed position fails here, in the caller's hands, not later inside a reconnect.
    if (after !== undefined) toClientPosition(after);
    const serverFilter = buildServerFilter(filter);
    const handle = {};
    try {
      yield* resumableSubscription({
        open: (from) =>
          this.client.subscribeToAll({
            fromPosition: from !== undefined ? toClientPosition(from) : START,
            filter: serverFilter,
          }),
        after,
        accept: (event) => matchesFilter(filter, event),
        policy: this.reconnectPolicy,
        signal,
        random: this.options.random,
        sleep: this.options.sleep,
        onLive: () => this.connection.subscriptionRecovered(handle),
        onDropped: (error) => {
          if (error !== undefined) this.connection.failed(error);
          this.connection.subscriptionDropped(handle);
        },
      });
    } finally {
      this.connection.subscriptionEnded(handle);
    }
  }

  comparePositions(a: Position, b: Position): number {
    return comparePositions(a, b);
  }

  async headPosition(): Promise<Position | undefined> {
    // The newest records are often the server's own (statistics, metadata), so walk back to the
    // newest event the port can read; the stream read pulls only as far as it has to.
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END });
    return this.consume(read, async (records) => {
      for await (const record of records) {
        const event = toRecordedEvent(record);
        if (event) return event.position;
      }
      return undefined;
    });
  }

  /** Every event EventStoreDB has committed is readable: the head is the last one. */
  lastPosition(): Promise<Position | undefined> {
    return this.headPosition();
  }

  /** For a health indicator: what the adapter last learned about its link to the server. */
  connectionState(): ConnectionState {
    return this.connection.state;
  }

  /** Asks the server (one record of $all) and reports the resulting state. */
  async checkConnection(): Promise<ConnectionState> {
    try {
      await this.lastRecordPosition();
    } catch {
      // The tracker recorded the failure; the state is the answer.
    }
    return this.connection.state;
  }

  async close(): Promise<void> {
    this.connection.close();
    await this.client.dispose();
  }

  /** The position of the newest record of $all, the server's own included. */
  private async lastRecordPosition(): Promise<Position | undefined> {
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 });
    return this.consume(read, async (records) => {
      for await (const record of records) return recordPosition(record);
      return undefined;
    });
  }

  /**
   * Servers older than 22.6 leave the position out of an append result. The stream's event at the
   * appended revision is the last one written, so its position is the one the append produced.
   */
  private async lastPositionOf(streamName: string, revision: bigint): Promise<Position> {
    const read = this.client.readStream(streamName, {
      direction: FORWARDS,
      fromRevision: revision,
      maxCount: 1,
    });
    const position = await this.consume(read, async (records) => {
      for await (const record of records) return recordPosition(record);
      return undefined;
    });
    if (position === undefined) {
      throw new Error(`EventStoreDB reported no log position for the append to ${streamName}`);
    }
    return position;
  }

  private async *mapRead<E extends Parameters<typeof toRecordedEvent>[0]>(
    read: StreamingRead<E>,
  ): AsyncGenerator<RecordedEvent> {
    try {
      for await (const record of read) {
        const event = toRecordedEvent(record);
        if (event) yield event;
      }
      this.connection.succeeded();
    } catch (error) {
      this.connection.failed(error);
      if (isStreamNotFound(error)) return;
      throw error;
    } finally {
      if (!read.readableEnded) await cancelQuietly(read);
    }
  }

  /**
   * Runs `use` over a read, records the outcome for the connection state, and cancels the
   * server-side read when `use` stops before the end.
   */
  private async consume<E, T>(
    read: StreamingRead<E>,
    use: (records: AsyncIterable<E>) => Promise<T>,
  ): Promise<T> {
    try {
      const result = await use(read);
      this.connection.succeeded();
      return result;
    } catch (error) {
      this.connection.failed(error);
      throw error;
    } finally {
      if (!read.readableEnded) await cancelQuietly(read);
    }
  }
}

async function cancelQuietly(read: { cancel(): Promise<void> }): Promise<void> {
  await read.cancel().catch(() => undefined);
}

/** The adapter on a connection string: esdb://, esdb+discover://, kurrentdb:// or kurrentdb+discover://. */
export function createEsdbEventStore(
  connectionString: string,
  options?: EsdbEventStoreOptions,
): EsdbEventStore {
  return new EsdbEventStore(
    EventStoreDBClient.connectionString(toClientConnectionString(connectionString)),
    options,
  );
}

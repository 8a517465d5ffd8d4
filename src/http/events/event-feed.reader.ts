import { Inject, Injectable } from '@nestjs/common';
import { requireLoggedPosition } from '../../application/queries/written-position.js';
import { followLog } from '../../consumers/log-follower.js';
import { PersonalDataVault } from '../../personal-data/personal-data.vault.js';
import { publishEvents, type PublishedEvent } from '../../personal-data/published-events.js';
import type { UnknownEventError } from '../../stored-events/tenancy-event.codec.js';
import {
  EVENT_STORE,
  type EventFilter,
  type EventStore,
  type JsonObject,
  type Position,
  type RecordedEvent,
} from '../../event-store/event-store.port.js';
import { TENANT_STREAM_PREFIX, tenantStreamName } from '../../tenancy/tenant-stream.js';
import type { TenancyEventType } from '../../tenancy/tenancy.events.js';

/** Events a live stream reads from the log at a time. */
const LIVE_BATCH_SIZE = 25;

/** One event as consumers see it: in the current schema version, with its place in the log. */
export interface FeedItem {
  readonly position: Position;
  readonly streamName: string;
  readonly revision: number;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
  readonly recordedAt: string;
}

export interface FeedPage {
  readonly items: readonly FeedItem[];
  /** Pass as `after` for the next page; null only while the log holds nothing readable. */
  readonly next: Position | null;
}

export interface FeedSelection {
  readonly tenantId?: string;
  readonly types?: readonly TenancyEventType[];
}

/**
 * The tenancy events of the log for other services. Only tenant streams are published: the name
 * reservation streams are an implementation detail of uniqueness and would leak tenant names.
 * Display names are revealed per page while their person's key exists (publishEvents).
 */
@Injectable()
export class EventFeedReader {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly personalData: PersonalDataVault,
  ) {}

  /** Refuses (400) a position after the log's last event: see requireLoggedPosition. */
  requireInLog(position: Position, field: string): Promise<void> {
    return requireLoggedPosition(this.store, position, field);
  }

  /**
   * An event this version cannot read ends the page before it, and a page that would start with it
   * throws (UnknownEventError): the next page starts there, once an upgraded instance serves it.
   */
  async page(after: Position | undefined, limit: number, selection: FeedSelection): Promise<FeedPage> {
    const page = await this.store.readAll({ after, maxCount: limit, filter: filterOf(selection) });
    const { items, stoppedAt } = await this.items(page.events);
    const next = stoppedAt === undefined ? page.nextPosition : items[items.length - 1]?.position;
    return { items, next: next ?? after ?? null };
  }

  private async items(
    records: readonly RecordedEvent[],
  ): Promise<{ items: FeedItem[]; stoppedAt?: UnknownEventError }> {
    const { events, stoppedAt } = await publishEvents(records, this.personalData);
    return { items: events.map(toFeedItem), ...(stoppedAt === undefined ? {} : { stoppedAt }) };
  }

  async *live(
    from: Position | 'start' | 'end',
    selection: FeedSelection,
    signal: AbortSignal,
  ): AsyncIterable<FeedItem> {
    // Pulled by the stream's pump as fast as the client reads: at most one batch is read ahead.
    const batches = followLog({
      store: this.store,
      filter: filterOf(selection),
      from,
      signal,
      batchSize: LIVE_BATCH_SIZE,
    });
    for await (const { events } of batches) {
      const { items, stoppedAt } = await this.items(events);
      for (const item of items) yield item;
      if (stoppedAt !== undefined) throw stoppedAt;
    }
  }
}

function filterOf(selection: FeedSelection): EventFilter {
  return {
    // One tenant's events are its stream's: read as that stream, a page costs its own rows only.
    ...(selection.tenantId === undefined
      ? { streamPrefixes: [TENANT_STREAM_PREFIX] }
      : { stream: tenantStreamName(selection.tenantId) }),
    ...(selection.types === undefined ? {} : { eventTypes: selection.types }),
  };
}

function toFeedItem({ recorded, type, data, metadata }: PublishedEvent): FeedItem {
  return {
    position: recorded.position,
    streamName: recorded.streamName,
    revision: recorded.revision,
    type,
    data,
    metadata,
    recordedAt: recorded.recordedAt.toISOString(),
  };
}

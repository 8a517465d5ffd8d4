import { Controller, Get, Headers, Inject, Logger, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeyRegistry, type RegisteredKey } from '../../application/access/api-key.registry.js';
import type { Principal } from '../../application/access/principal.js';
import { ACTOR_KEY } from '../auth/actor.js';
import { HttpDrain } from '../http-drain.js';
import { StreamAdmission } from './stream-admission.js';
import { sparingLog } from '../sparing-log.js';
import type { Position } from '../../event-store/event-store.port.js';
import { isPosition } from '../../event-store/position.js';
import { UnknownEventError } from '../../stored-events/tenancy-event.codec.js';
import {
  isTenancyEventType,
  TENANCY_EVENT_TYPES,
  type TenancyEventType,
} from '../../tenancy/tenancy.events.js';
import { fromQuery, Requires } from '../auth/requires.decorator.js';
import { ProblemError, problem, validationProblem } from '../problem.js';
import { EVENT_FEED_CONFIG, type EventFeedConfig } from './event-feed.config.js';
import { EventFeedReader, type FeedItem, type FeedPage, type FeedSelection } from './event-feed.reader.js';
import { EventFeedQueryDto, EventStreamQueryDto } from './event-feed.request.dto.js';
import { EVENT_SCHEMA_CATALOG, type EventSchemaEntry } from './event-schema.catalog.js';
import { pumpServerSentEvents, serverSentEventFrame } from './server-sent-events.pump.js';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import { ApiJson, ApiRoute } from '../openapi/api-docs.decorators.js';
import { FEED_PAGE_SCHEMA } from '../openapi/api-schemas.js';

const DEFAULT_PAGE_SIZE = 100;
/** How long a disconnected EventSource waits before it reconnects (with Last-Event-ID). */
const RECONNECT_DELAY_MS = 2_000;
/** How often an API key's stream makes sure the key still stands while no event comes. */
const KEY_RECHECK_MS = 250;

const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  // nginx would otherwise hold events back in its response buffer.
  'X-Accel-Buffering': 'no',
} as const;

/** The log for consuming services: pages, a live Server-Sent Events stream, and the event catalog. */
@Controller('v1/events')
export class EventFeedHttpController {
  private readonly logger = new Logger('EventFeed');
  private readonly admission: StreamAdmission;
  private readonly mayWarnNewerEvent = sparingLog();

  constructor(
    private readonly feed: EventFeedReader,
    private readonly drain: HttpDrain,
    @Inject(EVENT_SCHEMA_CATALOG) private readonly catalog: readonly EventSchemaEntry[],
    @Inject(EVENT_FEED_CONFIG) private readonly config: EventFeedConfig,
    private readonly keys: ApiKeyRegistry,
  ) {
    this.admission = new StreamAdmission(config.maxStreams, config.maxStreamsPerKey);
  }

  // The tenantId filter is the feed's target: a tenant key reads its own tenant's events only, and
  // without a filter the feed spans all tenants, which only the operator may read.
  @Get()
  @Requires('events:read', { tenantId: fromQuery('tenantId') })
  @ApiRoute('events', 'A page of the log, in log order (all tenants: operator; one tenant: its keys)', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    404: ['TENANT_NOT_FOUND'],
  })
  @ApiJson(200, 'A page of events', FEED_PAGE_SCHEMA)
  async page(@Query() query: EventFeedQueryDto): Promise<FeedPage> {
    const after = query.after === undefined ? undefined : parsePosition(query.after, 'after');
    if (after !== undefined) await this.feed.requireInLog(after, 'after');
    return this.feed.page(after, query.limit ?? DEFAULT_PAGE_SIZE, selectionOf(query));
  }

  /** The catalog describes event shapes, not any tenant's data. */
  @Get('schemas')
  @Requires('events:schemas')
  @ApiRoute('events', 'The catalog of event types and their JSON Schemas', {})
  @ApiJson(200, 'The catalog', {
    type: 'object',
    properties: { items: { type: 'array', items: { type: 'object' } } },
    required: ['items'],
  })
  schemas(): { items: readonly EventSchemaEntry[] } {
    return { items: this.catalog };
  }

  /**
   * Plain express instead of Nest's @Sse, which buffers whatever its Observable emits: here the
   * log is read only as fast as the client reads. Streams are bounded in number (per key and in
   * all, 429 beyond), a client that reads nothing for stallTimeoutMs is disconnected, and shutdown
   * ends every stream (HttpDrain).
   */
  @Get('stream')
  @Requires('events:read', { tenantId: fromQuery('tenantId') })
  @ApiRoute('events', 'The log live, as Server-Sent Events (resumes from Last-Event-ID)', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    404: ['TENANT_NOT_FOUND'],
    429: ['TOO_MANY_STREAMS'],
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: "Resume after this position; one after the log's last event is 400",
  })
  @ApiResponse({
    status: 200,
    description: 'An event stream: one event per log entry, id = its position',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  async stream(
    @Query() query: EventStreamQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const selection = selectionOf(query);
    const resumeFrom = lastEventId?.trim() || query.from;
    const field = lastEventId?.trim() ? 'Last-Event-ID' : 'from';
    const from =
      resumeFrom === undefined || resumeFrom === 'start' || resumeFrom === 'end'
        ? (resumeFrom ?? 'start')
        : parsePosition(resumeFrom, field);
    if (from !== 'start' && from !== 'end') await this.feed.requireInLog(from, field);
    const principal = (request as Request & { [ACTOR_KEY]?: Principal })[ACTOR_KEY];
    // A key id is unique within its tenant only (a client may choose one): the tenant is part of it.
    const admissionKey =
      principal === undefined
        ? 'anonymous'
        : principal.kind === 'operator'
          ? 'operator'
          : `${principal.tenantId}/${principal.apiKeyId}`;
    if (request.method === 'HEAD') {
      // The status and headers a GET would get, and nothing held: a HEAD has no body to stream,
      // and one left open would keep a stream slot of its key (and a reader of the log) for as
      // long as its connection lives.
      this.admission.check(admissionKey);
      response.status(200).set(STREAM_HEADERS).end();
      return;
    }

    const release = this.admission.admit(admissionKey);
    const abort = this.drain.openStream();
    response.on('close', () => {
      abort.abort();
      release();
    });
    // The key was checked once, as the stream opened; the stream must not outlive it. It ends right
    // after the key's own revocation (or the start of its tenant's deletion) as the feed brings it,
    // and at once when the key is found gone otherwise (an event type filter hiding that event, a
    // quiet tenant, another instance's revocation that this one's key registry has applied).
    const key = principal?.kind === 'api-key' ? principal : undefined;
    const recheck =
      key === undefined
        ? undefined
        : setInterval(() => {
            if (!this.keys.stillStands(key)) abort.abort();
          }, KEY_RECHECK_MS);
    const live = this.feed.live(from, selection, abort.signal);
    response.status(200).set(STREAM_HEADERS);
    response.flushHeaders();
    response.write(`retry: ${RECONNECT_DELAY_MS}\n\n`);
    try {
      const end = await pumpServerSentEvents({
        source: key === undefined ? live : whileKeyStands(live, key, this.keys),
        sink: response,
        frame: (item) => serverSentEventFrame(item.position, item.type, item),
        heartbeatMs: this.config.heartbeatMs,
        stallTimeoutMs: this.config.stallTimeoutMs,
        signal: abort.signal,
      });
      if (end === 'stalled') {
        // Ending politely would wait for the unread buffer to flush: cut the connection instead.
        this.logger.warn(`event stream closed: the client read nothing for ${this.config.stallTimeoutMs} ms`);
        response.destroy();
      }
    } catch (error) {
      // The status line is long gone: the client learns of the failure by the stream ending, and
      // resumes from its Last-Event-ID. An event of a newer version ends it after every event
      // before it; an upgraded instance serves the rest.
      if (error instanceof UnknownEventError) {
        // Its client reconnects, and ends there again, until an upgraded instance serves it.
        if (this.mayWarnNewerEvent()) {
          this.logger.warn(`event stream ended at an event this version cannot read: ${error.message}`);
        }
        return;
      }
      this.logger.error(
        `event stream failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    } finally {
      clearInterval(recheck);
      abort.abort();
      release();
      response.end();
    }
  }
}

/**
 * The feed for as long as the key stands: the key's own revocation, or the start of its tenant's
 * deletion, is the last event delivered; any other event is held back once the key is gone.
 */
async function* whileKeyStands(
  source: AsyncIterable<FeedItem>,
  key: RegisteredKey,
  keys: ApiKeyRegistry,
): AsyncIterable<FeedItem> {
  for await (const item of source) {
    const endsKey =
      (item.type === 'ApiKeyRevoked' && item.data['apiKeyId'] === key.apiKeyId) ||
      item.type === 'TenantDeletionStarted' ||
      item.type === 'TenantDeleted';
    if (endsKey) {
      yield item;
      return;
    }
    if (!keys.stillStands(key)) return;
    yield item;
  }
}

/** A position a client sent (`field` names where): one the log handed out, or a 400 naming the field. */
function parsePosition(value: string, field: string): Position {
  if (!isPosition(value)) {
    throw validationProblem([{ field, message: 'must be a position from the log' }]);
  }
  return value;
}

function selectionOf(query: { tenantId?: string; types?: string }): FeedSelection {
  return {
    ...(query.tenantId === undefined ? {} : { tenantId: query.tenantId.toLowerCase() }),
    ...(query.types === undefined ? {} : { types: parseTypes(query.types) }),
  };
}

function parseTypes(list: string): TenancyEventType[] {
  const names = list.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !isTenancyEventType(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new ProblemError(
      problem(
        400,
        'VALIDATION_FAILED',
        'Validation failed',
        `types must be a comma-separated list of ${TENANCY_EVENT_TYPES.join(', ')}.`,
        { errors: unknown.map((name) => ({ field: 'types', message: `unknown event type '${name}'` })) },
      ),
    );
  }
  return [...new Set(names as TenancyEventType[])];
}

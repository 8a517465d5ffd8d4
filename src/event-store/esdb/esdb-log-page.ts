import type { AllStreamResolvedEvent } from '@eventstore/db-client';
import type { EventFilter, Position, ReadAllPage, RecordedEvent } from '../event-store.port.js';
import { comparePositions } from '../position.js';
import { recordPosition, toRecordedEvent } from './esdb-event-mapping.js';
import { matchesFilter } from '../event-filter.js';

export interface LogPageRequest {
  /** Exclusive start; undefined for the start of the log. */
  readonly after: Position | undefined;
  readonly maxCount: number;
  readonly filter: EventFilter | undefined;
  /** How many records the caller asked the server for; fewer arriving means the end of the log. */
  readonly scanLimit: number;
}

/**
 * The records of $all a page should scan: one more than a full page, because the server starts a
 * read at the given position inclusively and the first record is then the one the page starts
 * after; and at least a few thousand, so a selective filter does not turn a page into many tiny
 * round trips. Bounded, so one page never scans the whole log.
 */
export function scanLimitFor(maxCount: number): number {
  return Math.max(maxCount + 1, 4096);
}

/**
 * Builds one page of the port's readAll from a forwards read of $all that started at `after`.
 *
 * The client's readAll takes no filter in this client version, so filtering (and dropping system
 * records) happens here. The cursor moves over every scanned record, so a filtered reader does not
 * rescan what it skipped. isEnd is set only when the read ran out before the scan limit, i.e. the
 * page saw the current end of the log; a page cut short by the scan limit has fewer than maxCount
 * events and isEnd false, and the caller simply asks again from nextPosition.
 */
export async function collectLogPage(
  records: AsyncIterable<AllStreamResolvedEvent>,
  request: LogPageRequest,
): Promise<ReadAllPage> {
  const events: RecordedEvent[] = [];
  let scanned = 0;
  let cursor = request.after;
  if (request.maxCount <= 0) return { events, nextPosition: cursor, isEnd: false };
  for await (const record of records) {
    scanned += 1;
    const position = recordPosition(record);
    if (position === undefined) continue;
    if (cursor !== undefined && comparePositions(position, cursor) <= 0) continue;
    cursor = position;
    const event = toRecordedEvent(record);
    if (!event || !matchesFilter(request.filter, event)) continue;
    events.push(event);
    if (events.length === request.maxCount) return { events, nextPosition: cursor, isEnd: false };
  }
  return { events, nextPosition: cursor, isEnd: scanned < request.scanLimit };
}

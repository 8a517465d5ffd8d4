import { eventTypeFilter, excludeSystemEvents, streamNameFilter, type Filter } from '@eventstore/db-client';
import type { EventFilter } from '../event-store.port.js';

/**
 * The port's EventFilter on EventStoreDB.
 *
 * A server-side filter matches either stream names or event types, never both, and its prefix
 * lists are prefixes. The port wants stream-name prefixes AND exact event types (AND one stream).
 * So the server filters on one condition (the one stream, else the stream prefixes: they select
 * this service's streams and cut the most traffic), and `matchesFilter` (event-filter.ts) applies
 * the whole filter again on the client. The client check is the one that decides; the server
 * filter only saves bandwidth.
 */

/** The server-side part of a subscription filter. Without a filter, system events stay on the server. */
export function buildServerFilter(filter: EventFilter | undefined): Filter {
  if (filter?.stream !== undefined) return streamNameFilter({ regex: `^${escapeRegex(filter.stream)}$` });
  const streamPrefixes = nonEmpty(filter?.streamPrefixes);
  if (streamPrefixes) return streamNameFilter({ prefixes: [...streamPrefixes] });
  const eventTypes = nonEmpty(filter?.eventTypes);
  if (eventTypes) return eventTypeFilter({ regex: exactTypesRegex(eventTypes) });
  return excludeSystemEvents();
}

/** A regex that matches exactly the given event types (server-side type filters are prefix-based). */
export function exactTypesRegex(types: readonly string[]): string {
  return `^(${types.map(escapeRegex).join('|')})$`;
}

function nonEmpty(list: readonly string[] | undefined): readonly string[] | undefined {
  return list && list.length > 0 ? list : undefined;
}

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, (character) => `\\${character}`);
}

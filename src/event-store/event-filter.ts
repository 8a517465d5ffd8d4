import type { EventFilter, RecordedEvent } from './event-store.port.js';

/**
 * What an EventFilter means, for an event in hand: the check of every reader that filters in the
 * process (the shared log tail, the EventStoreDB adapter behind its coarser server-side filter).
 * OR within a list, AND between the conditions; an absent or empty list does not restrict.
 */
export function matchesFilter(
  filter: EventFilter | undefined,
  event: Pick<RecordedEvent, 'streamName' | 'type'>,
): boolean {
  const streamPrefixes = filter?.streamPrefixes;
  if (streamPrefixes?.length && !streamPrefixes.some((prefix) => event.streamName.startsWith(prefix))) {
    return false;
  }
  if (filter?.eventTypes?.length && !filter.eventTypes.includes(event.type)) return false;
  if (filter?.stream !== undefined && event.streamName !== filter.stream) return false;
  return true;
}

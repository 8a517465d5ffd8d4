import type { EventToAppend, ExpectedRevision } from './event-store.port.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Checks both adapters apply before they touch their store, so a malformed append fails the same
 * way everywhere instead of with a store-specific error.
 */
export function assertAppendable(
  streamName: string,
  events: readonly EventToAppend[],
  expectedRevision: ExpectedRevision,
): void {
  if (streamName.length === 0) throw new TypeError('stream name must not be empty');
  if (events.length === 0) throw new TypeError(`nothing to append to ${streamName}`);
  if (
    typeof expectedRevision === 'number' &&
    (!Number.isSafeInteger(expectedRevision) || expectedRevision < 0)
  ) {
    throw new TypeError(`expected revision must be a non-negative integer, not ${expectedRevision}`);
  }
  for (const event of events) {
    if (event.type.length === 0) throw new TypeError('event type must not be empty');
    if (event.id !== undefined && !UUID_PATTERN.test(event.id))
      throw new TypeError(`event id is not a UUID: ${event.id}`);
  }
}

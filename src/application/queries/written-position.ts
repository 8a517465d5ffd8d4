import type { EventStore, Position } from '../../event-store/event-store.port.js';
import { invalidField } from '../../tenancy/tenancy.errors.js';

/**
 * A Min-Position must be one a write could have answered: at or before the log's last committed
 * event. A later one would be waited for in vain (the read models) or would claim an answer
 * includes a write that never happened (the checks): it is refused, 400 VALIDATION_FAILED.
 */
export async function requireWrittenPosition(store: EventStore, position: Position): Promise<void> {
  if (await isPastTheLog(store, position)) {
    throw invalidField('Min-Position', 'is after the last event of the log: no write answered it');
  }
}

/**
 * A consumer's position (the feed's `after`, the stream's `from` or `Last-Event-ID`) must be one
 * this log handed out: at or before its last committed event. A later one comes from another
 * database (positions of two stores do not compare, as after an import into a fresh one) and
 * would be answered with nothing for ever while the log grows behind it: it is refused instead.
 */
export async function requireLoggedPosition(
  store: EventStore,
  position: Position,
  field: string,
): Promise<void> {
  if (await isPastTheLog(store, position)) throw invalidField(field, NOT_OF_THIS_LOG);
}

/** Why a consumer's or an auditor's position after the log's last event is refused. */
export const NOT_OF_THIS_LOG =
  'is after the last event of the log: a position from another database, or from before a restore?';

/** Whether no event of this log is at or after `position`'s place: no append answered it. */
export async function isPastTheLog(store: EventStore, position: Position): Promise<boolean> {
  const last = await store.lastPosition();
  return last === undefined || store.comparePositions(position, last) > 0;
}

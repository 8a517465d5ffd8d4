import type { EventStore, Position } from '../../event-store/event-store.port.js';
import { invalidField } from '../../tenancy/tenancy.errors.js';

/**
 * A Min-Position must be one a write could have answered: at or before the log's last committed
 * event. A later one would be waited for in vain (the read models) or would claim an answer
 * includes a write that never happened (the checks): it is refused, 400 VALIDATION_FAILED.
 */
export async function requireWrittenPosition(store: EventStore, position: Position): Promise<void> {
  const last = await store.lastPosition();
  if (last === undefined || store.comparePositions(position, last) > 0) {
    throw invalidField('Min-Position', 'is after the last event of the log: no write answered it');
  }
}

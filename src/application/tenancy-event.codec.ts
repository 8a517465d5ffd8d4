import type { RecordedEvent } from '../event-store/event-store.port.js';
import { isTenancyEventType, type TenancyEvent } from '../tenancy/tenancy.events.js';

export class UnknownEventError extends Error {
  override name = 'UnknownEventError';
}

/**
 * The one way a stored event becomes a domain event, used by every read path (command handling,
 * projections, process managers), so that older shapes are upcast in exactly one place.
 */
export function decodeTenancyEvent(recorded: RecordedEvent): TenancyEvent {
  if (!isTenancyEventType(recorded.type)) {
    throw new UnknownEventError(
      `${recorded.streamName}@${recorded.revision}: unknown event type ${recorded.type}`,
    );
  }
  return { type: recorded.type, data: recorded.data } as TenancyEvent;
}

import { randomUUID } from 'node:crypto';
import type { EventToAppend, JsonObject, RecordedEvent } from '../event-store/event-store.port.js';
import { CURRENT_SCHEMA_VERSION } from '../tenancy/tenancy.events.js';

/** Who caused an event, why, and when: what every stored event's metadata records. */
export interface EventOrigin {
  /** The API key id of the caller, or the name of the process manager acting. */
  readonly actor: string;
  /** Shared by everything one request (or one chain of reactions) causes. */
  readonly correlationId: string;
  /** The request or event that caused this one. */
  readonly causationId: string;
  readonly now: Date;
}

/** The metadata every stored domain event carries. */
export interface EventMetadata extends JsonObject {
  readonly correlationId: string;
  readonly causationId: string;
  readonly actor: string;
  readonly occurredAt: string;
  readonly schemaVersion: number;
}

/** A domain event as the service stores it: a fresh event id, its data, and the metadata of its origin. */
export function toEventToAppend(
  event: { readonly type: string; readonly data: object },
  origin: EventOrigin,
): EventToAppend {
  const metadata: EventMetadata = {
    correlationId: origin.correlationId,
    causationId: origin.causationId,
    actor: origin.actor,
    occurredAt: origin.now.toISOString(),
    schemaVersion: CURRENT_SCHEMA_VERSION,
  };
  return { id: randomUUID(), type: event.type, data: event.data as JsonObject, metadata };
}

/** The origin of whatever a process manager does about an event: same correlation, the event as its cause. */
export function originCausedBy(event: RecordedEvent, actor: string, now: Date): EventOrigin {
  return {
    actor,
    correlationId: metadataText(event, 'correlationId') ?? event.id,
    causationId: event.id,
    now,
  };
}

/** When the fact happened, as the command recorded it; older events fall back to the store's time. */
export function occurredAt(recorded: RecordedEvent): string {
  const value = recorded.metadata.occurredAt;
  return typeof value === 'string' && !Number.isNaN(Date.parse(value))
    ? value
    : recorded.recordedAt.toISOString();
}

/** A text field of the stored metadata; null when absent or not text (events of older writers). */
export function metadataText(recorded: RecordedEvent, key: keyof EventMetadata & string): string | null {
  const value = recorded.metadata[key];
  return typeof value === 'string' ? value : null;
}

import type { JsonObject } from '../../event-store/event-store.port.js';
import type { TenancyEventType } from '../../tenancy/tenancy.events.js';

/** What an upcaster may look at besides the data: the stored event's place in the log. */
export interface UpcastContext {
  readonly streamName: string;
}

/**
 * Turns the data of one event type from `fromVersion` into the shape of `fromVersion + 1`. Pure and
 * applied on read only: stored events are never rewritten, so the old shape must stay readable forever.
 */
export interface Upcaster {
  readonly type: TenancyEventType;
  readonly fromVersion: number;
  readonly upcast: (data: JsonObject, context: UpcastContext) => JsonObject;
}

/** A stored event whose shape cannot be brought to the current version. */
export class UpcastError extends Error {
  override name = 'UpcastError';
}

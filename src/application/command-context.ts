import { randomUUID } from 'node:crypto';
import { CURRENT_SCHEMA_VERSION } from '../tenancy/tenancy.events.js';
import type { EventToAppend, JsonObject } from '../event-store/event-store.port.js';

/** Who asked, why, and when: carried by every command into the metadata of the events it causes. */
export interface CommandContext {
  /** The API key id of the caller, or the name of the process manager acting. */
  readonly actor: string;
  /** Shared by everything one request (or one chain of reactions) causes. */
  readonly correlationId: string;
  /** The request or event that caused this command. */
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

export function toEventToAppend(
  event: { readonly type: string; readonly data: object },
  context: CommandContext,
): EventToAppend {
  const metadata: EventMetadata = {
    correlationId: context.correlationId,
    causationId: context.causationId,
    actor: context.actor,
    occurredAt: context.now.toISOString(),
    schemaVersion: CURRENT_SCHEMA_VERSION,
  };
  return { id: randomUUID(), type: event.type, data: event.data as JsonObject, metadata };
}

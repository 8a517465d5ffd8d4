import type { JsonObject, RecordedEvent } from '../event-store/event-store.port.js';
import {
  CURRENT_SCHEMA_VERSION,
  isTenancyEventType,
  type TenancyEvent,
  type TenancyEventType,
} from '../tenancy/tenancy.events.js';
import { tenancyUpcasters } from './upcasting/upcaster-chain.js';

/**
 * A stored event this version cannot read: a type it does not know, or a schema version newer than
 * its own. A newer version writes such events while both run (a rolling deployment), or wrote them
 * before a rollback. A reader must neither guess at it nor skip it: it stops there, and what comes
 * after waits for an upgraded reader.
 */
export class UnknownEventError extends Error {
  override name = 'UnknownEventError';

  constructor(
    readonly recorded: RecordedEvent,
    /** What cannot be read: "unknown event type X", "X has schemaVersion 3, newer than ...". */
    readonly reason: string,
  ) {
    super(`${recorded.streamName}@${recorded.revision}: ${reason}`);
  }
}

/** A stored event as every reader outside the domain fold wants it: in the current shape, with its metadata. */
export interface DecodedEvent {
  readonly event: TenancyEvent;
  /** The stored metadata with schemaVersion set to the version `event` is now in. */
  readonly metadata: JsonObject & { readonly schemaVersion: number };
  /** The version the event was written with, for auditors who want to know what was upcast. */
  readonly storedSchemaVersion: number;
  readonly recorded: RecordedEvent;
}

/**
 * The one way a stored event becomes a domain event, used by every read path (command handling,
 * projections, process managers), so that older shapes are upcast in exactly one place.
 */
export function decodeTenancyEvent(recorded: RecordedEvent): TenancyEvent {
  return upcastEvent(recorded, requireKnownEventType(recorded), storedSchemaVersionOf(recorded));
}

/** For the event feed and export: the decoded event together with the metadata it is published with. */
export function decodeRecorded(recorded: RecordedEvent): DecodedEvent {
  const type = requireKnownEventType(recorded);
  const storedSchemaVersion = storedSchemaVersionOf(recorded);
  return {
    event: upcastEvent(recorded, type, storedSchemaVersion),
    metadata: { ...recorded.metadata, schemaVersion: CURRENT_SCHEMA_VERSION },
    storedSchemaVersion,
    recorded,
  };
}

/**
 * The version an event was written with. Metadata without one predates versioning: that earliest
 * shape is version 0.
 */
export function storedSchemaVersionOf(recorded: RecordedEvent): number {
  const version = recorded.metadata.schemaVersion;
  if (version === undefined) return 0;
  if (typeof version !== 'number') {
    throw new UnknownEventError(recorded, `schemaVersion ${JSON.stringify(version)} is not a number`);
  }
  if (version > CURRENT_SCHEMA_VERSION) {
    // Reading it as the current shape could silently lose what the newer version added.
    throw new UnknownEventError(
      recorded,
      `${recorded.type} has schemaVersion ${version}, newer than this version's ${CURRENT_SCHEMA_VERSION}`,
    );
  }
  return version;
}

/**
 * The event's type, if this version knows it. For readers that act on some types only and pass the
 * others by: a type a newer version added may matter to them, so it is thrown, never passed by.
 */
export function requireKnownEventType(recorded: RecordedEvent): TenancyEventType {
  if (!isTenancyEventType(recorded.type)) {
    throw new UnknownEventError(recorded, `unknown event type ${recorded.type}`);
  }
  return recorded.type;
}

function upcastEvent(recorded: RecordedEvent, type: TenancyEventType, fromVersion: number): TenancyEvent {
  const data = tenancyUpcasters.upcast(type, recorded.data, fromVersion, { streamName: recorded.streamName });
  return { type, data } as TenancyEvent;
}

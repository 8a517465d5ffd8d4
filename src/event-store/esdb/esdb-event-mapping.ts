import { randomUUID } from 'node:crypto';
import {
  ANY,
  ErrorType,
  jsonEvent,
  NO_STREAM,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type EventData,
  type Position as ClientPosition,
  type ResolvedEvent,
} from '@eventstore/db-client';
import {
  ConcurrencyError,
  type EventToAppend,
  type ExpectedRevision,
  type JsonObject,
  type Position,
  type RecordedEvent,
} from '../event-store.port.js';
import { decodePosition, encodePosition } from '../position.js';

/**
 * Translations between the @eventstore/db-client shapes and the port's. Kept free of I/O so every
 * decision the adapter makes about the server's data is unit-tested without a server.
 */

export function toClientExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return BigInt(expected);
  }
}

/** Events are stored as JSON (content type application/json), so other clients and the UI can read them. */
export function toEventData(event: EventToAppend): EventData {
  return jsonEvent({
    id: event.id ?? randomUUID(),
    type: event.type,
    data: event.data,
    metadata: event.metadata ?? {},
  });
}

export function toPortPosition(position: ClientPosition): Position {
  return encodePosition(position.commit, position.prepare);
}

export function toClientPosition(position: Position): ClientPosition {
  const { major, minor } = decodePosition(position);
  return { commit: major, prepare: minor };
}

/** Event types the server writes for itself ($metadata, $>, $statsCollected, ...). */
export function isSystemEventType(type: string): boolean {
  return type.startsWith('$');
}

/** The log position of whatever record a resolved event carries, system records included. */
export function recordPosition(resolved: ResolvedEvent | AllStreamResolvedEvent): Position | undefined {
  const position = resolved.event?.position;
  return position ? toPortPosition(position) : undefined;
}

/**
 * The port's view of a stored event, or undefined for records that are not this service's events:
 * system records, and records whose data is not a JSON object (the port only carries JSON objects,
 * and a shared cluster may hold other applications' binary events). The link record is ignored on
 * purpose: the adapter never asks the server to resolve links.
 */
export function toRecordedEvent(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event || isSystemEventType(event.type)) return undefined;
  if (!event.isJson || !isJsonObject(event.data)) return undefined;
  if (!event.position) {
    // Stream reads carry log positions only from EventStoreDB 22.6 on; the port needs them everywhere.
    throw new Error(
      `EventStoreDB returned event ${event.id} of ${event.streamId} without a log position (server 22.6 or later required)`,
    );
  }
  return {
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: isJsonObject(event.metadata) ? event.metadata : {},
    streamName: event.streamId,
    revision: Number(event.revision),
    position: toPortPosition(event.position),
    // The client already turned the server's .NET ticks into a Date.
    recordedAt: event.created,
  };
}

function isJsonObject(value: unknown): value is JsonObject {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

/**
 * The port's ConcurrencyError for a client WrongExpectedVersionError, or undefined for any other
 * error. The client reports a missing stream as 'no_stream' when it decoded the server's details,
 * but as -1 when it read the older error metadata, so both mean "no stream".
 */
export function toConcurrencyError(
  error: unknown,
  streamName: string,
  expected: ExpectedRevision,
): ConcurrencyError | undefined {
  if (!isWrongExpectedVersion(error)) return undefined;
  const actual = error.actualVersion;
  return new ConcurrencyError(
    streamName,
    expected,
    typeof actual === 'bigint' && actual >= 0n ? Number(actual) : 'no_stream',
  );
}

function isWrongExpectedVersion(error: unknown): error is WrongExpectedVersionError {
  return (
    error instanceof WrongExpectedVersionError ||
    (error instanceof Error && (error as { type?: unknown }).type === ErrorType.WRONG_EXPECTED_VERSION)
  );
}

export function isStreamNotFound(error: unknown): boolean {
  return (
    error instanceof StreamNotFoundError ||
    (error instanceof Error && (error as { type?: unknown }).type === ErrorType.STREAM_NOT_FOUND)
  );
}

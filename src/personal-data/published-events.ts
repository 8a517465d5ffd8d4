import type { JsonObject, RecordedEvent } from '../event-store/event-store.port.js';
import {
  decodeRecorded,
  UnknownEventError,
  type DecodedEvent,
} from '../stored-events/tenancy-event.codec.js';
import {
  addEventNeeds,
  addStoredEventNeeds,
  carriesPersonalData,
  emptyNeeds,
  redactStoredEventData,
  revealEventData,
  type LookupNeeds,
  type PersonalDataLookup,
} from './personal-data.reveal.js';

/** Where the keys and erasures come from (the PersonalDataVault). */
export interface PersonalDataSource {
  lookup(needs: LookupNeeds): Promise<PersonalDataLookup>;
}

/** A tenant event as this service publishes it: the current schema version, personal data revealed. */
export interface PublishedEvent {
  readonly recorded: RecordedEvent;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
}

/** A page's events as published, up to the first one this version cannot read. */
export interface PublishedEvents {
  readonly events: PublishedEvent[];
  /** The event after the last published, when this version cannot read it (nor any after it). */
  readonly stoppedAt?: UnknownEventError;
}

/**
 * The events of a page in the current shape, each display name revealed while its person's key
 * exists and marked erased after: the one way the feed, the tenant's history and exports publish
 * events. A page without personal data costs no lookup.
 *
 * An event of a newer version ends the page before it (`stoppedAt`): what precedes it is served,
 * and it is never skipped. When it comes first there is nothing to serve, and its error is thrown.
 */
export async function publishEvents(
  records: readonly RecordedEvent[],
  personalData: PersonalDataSource,
): Promise<PublishedEvents> {
  const { decoded, stoppedAt } = decodeReadable(records);
  const needs = emptyNeeds();
  for (const { event } of decoded) {
    if (carriesPersonalData(event.type)) addEventNeeds(needs, event.type, event.data);
  }
  const lookup = await personalData.lookup(needs);
  const events = decoded.map(({ event, metadata, recorded }) => ({
    recorded,
    type: event.type,
    data: revealEventData(event.type, event.data, lookup),
    metadata,
  }));
  return stoppedAt === undefined ? { events } : { events, stoppedAt };
}

function decodeReadable(records: readonly RecordedEvent[]): {
  decoded: DecodedEvent[];
  stoppedAt?: UnknownEventError;
} {
  const decoded: DecodedEvent[] = [];
  for (const recorded of records) {
    try {
      decoded.push(decodeRecorded(recorded));
    } catch (error) {
      if (!(error instanceof UnknownEventError) || decoded.length === 0) throw error;
      return { decoded, stoppedAt: error };
    }
  }
  return { decoded };
}

/**
 * Stored events as they are, except a plain-text display name (schema version 1) of a person since
 * erased, which becomes null: what `tenancy export --raw` writes.
 */
export async function redactStoredEvents(
  records: readonly RecordedEvent[],
  personalData: PersonalDataSource,
): Promise<{ readonly recorded: RecordedEvent; readonly data: JsonObject }[]> {
  const needs = emptyNeeds();
  for (const recorded of records) addStoredEventNeeds(needs, recorded.type, recorded.data);
  const lookup = await personalData.lookup(needs);
  return records.map((recorded) => ({
    recorded,
    data: redactStoredEventData(recorded.type, recorded.data, lookup),
  }));
}

import type { JsonObject, RecordedEvent } from '../event-store/event-store.port.js';
import { decodeRecorded } from '../stored-events/tenancy-event.codec.js';
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

/**
 * The events of a page in the current shape, each display name revealed while its person's key
 * exists and marked erased after: the one way the feed, the tenant's history and exports publish
 * events. A page without personal data costs no lookup.
 */
export async function publishEvents(
  records: readonly RecordedEvent[],
  personalData: PersonalDataSource,
): Promise<PublishedEvent[]> {
  const decoded = records.map(decodeRecorded);
  const needs = emptyNeeds();
  for (const { event } of decoded) {
    if (carriesPersonalData(event.type)) addEventNeeds(needs, event.type, event.data);
  }
  const lookup = await personalData.lookup(needs);
  return decoded.map(({ event, metadata, recorded }) => ({
    recorded,
    type: event.type,
    data: revealEventData(event.type, event.data, lookup),
    metadata,
  }));
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

import type { JsonObject } from '../event-store/event-store.port.js';
import { isSealed, keyIdOfSealed, type PersonalText } from '../tenancy/personal-text.js';
import type { DataSubject } from './personal-data.cipher.js';

/**
 * What a reader is told about a piece of personal data. Through the service's own read paths (the
 * feed, the tenant's events, exports, the CLI) a sealed value comes with its plain `text` while
 * the person's key exists, or with `erased: true` once it is gone; a value from before sealing
 * (`text` only) is replaced by `erased: true` once the person is erased.
 */
export type RevealedPersonalText =
  | { readonly sealed: string; readonly text: string }
  | { readonly sealed: string; readonly erased: true }
  | { readonly text: string }
  | { readonly erased: true };

/** The keys and erasures a batch of values needs, looked up once (PersonalDataVault.lookup). */
export interface PersonalDataLookup {
  /** The plain text of a sealed value of this person, if their key still exists. */
  open(subject: DataSubject, sealed: string): string | undefined;
  /** Whether this person's personal data was ever erased. */
  isErased(subject: DataSubject): boolean;
}

/** What a lookup must fetch for a batch: the keys of sealed values, the persons of unsealed ones. */
export interface LookupNeeds {
  readonly keys: { readonly tenantId: string; readonly keyId: string }[];
  readonly subjects: DataSubject[];
}

export function emptyNeeds(): LookupNeeds {
  return { keys: [], subjects: [] };
}

export function addNeed(needs: LookupNeeds, subject: DataSubject, value: PersonalText | null): void {
  if (value === null) return;
  if (isSealed(value)) needs.keys.push({ tenantId: subject.tenantId, keyId: keyIdOfSealed(value.sealed) });
  else needs.subjects.push(subject);
}

export function revealPersonalText(
  value: PersonalText | null,
  subject: DataSubject,
  lookup: PersonalDataLookup,
): RevealedPersonalText | null {
  if (value === null) return null;
  if (isSealed(value)) {
    const text = lookup.open(subject, value.sealed);
    return text === undefined ? { sealed: value.sealed, erased: true } : { sealed: value.sealed, text };
  }
  return lookup.isErased(subject) ? { erased: true } : { text: value.text };
}

/** The readable form for a member's display name in API answers: the text, or null and whether it was erased. */
export function displayNameOf(revealed: RevealedPersonalText | null): {
  readonly displayName: string | null;
  readonly erased: boolean;
} {
  if (revealed === null) return { displayName: null, erased: false };
  return 'text' in revealed
    ? { displayName: revealed.text, erased: false }
    : { displayName: null, erased: true };
}

/** The event types whose data carries personal data, and where. */
const PERSONAL_FIELDS: { readonly [type: string]: readonly string[] } = {
  MemberAdded: ['displayName'],
  MemberUpdated: ['displayName'],
};

export function carriesPersonalData(type: string): boolean {
  return Object.hasOwn(PERSONAL_FIELDS, type);
}

/** Adds what the data of one (current-shape) event needs revealed. */
export function addEventNeeds(needs: LookupNeeds, type: string, data: JsonObject): void {
  for (const field of PERSONAL_FIELDS[type] ?? []) {
    addNeed(needs, subjectOf(data), data[field] as PersonalText | null);
  }
}

/** The data of one (current-shape) event with its personal data revealed; other events unchanged. */
export function revealEventData(type: string, data: JsonObject, lookup: PersonalDataLookup): JsonObject {
  const fields = PERSONAL_FIELDS[type];
  if (fields === undefined) return data;
  let revealed: JsonObject = data;
  for (const field of fields) {
    const value = revealPersonalText(data[field] as PersonalText | null, subjectOf(data), lookup);
    revealed = { ...revealed, [field]: value };
  }
  return revealed;
}

/**
 * The data of an event exactly as stored, except that a display name stored in plain text (schema
 * version 1) of a person who has since been erased becomes null: the one change an erasure makes to
 * what an export as stored contains. Sealed values are left as they are: without the key they are
 * unreadable anyway.
 */
export function redactStoredEventData(
  type: string,
  data: JsonObject,
  lookup: PersonalDataLookup,
): JsonObject {
  const fields = PERSONAL_FIELDS[type];
  if (fields === undefined) return data;
  let redacted: JsonObject | undefined;
  for (const field of fields) {
    if (typeof data[field] === 'string' && lookup.isErased(subjectOf(data))) {
      redacted = { ...(redacted ?? data), [field]: null };
    }
  }
  return redacted ?? data;
}

/** Adds what the data of one stored event needs for redactStoredEventData. */
export function addStoredEventNeeds(needs: LookupNeeds, type: string, data: JsonObject): void {
  for (const field of PERSONAL_FIELDS[type] ?? []) {
    if (typeof data[field] === 'string') needs.subjects.push(subjectOf(data));
  }
}

function subjectOf(data: JsonObject): DataSubject {
  return { tenantId: String(data.tenantId), userId: String(data.userId) };
}

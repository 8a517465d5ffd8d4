/**
 * Personal data in the tenant's events (a member's display name) as the domain holds it: opaque.
 *
 * From schema version 2 on, the application seals such a value with a key kept for that one person
 * outside the log (crypto-shredding: erasing the person deletes the key, and every copy of the value
 * in the log becomes unreadable without rewriting a single event). The domain never sees the key or
 * the plain text; it stores, compares and folds the sealed form. Values written before sealing
 * (schema version 1) are upcast to `{ text }`, which an erasure can only hide, not remove.
 */
import { invalidField } from './tenancy.errors.js';

/** `pd1.<keyId>.<base64url of iv, ciphertext and tag>`: what src/personal-data writes. */
export const SEALED_PATTERN =
  /^pd1\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9_-]{38,1200}$/;

export type PersonalText =
  /** Sealed with the person's key: readable only while the key exists. */
  | { readonly sealed: string }
  /** Written in plain text before sealing existed (schema version 1). */
  | { readonly text: string };

export function isSealed(value: PersonalText): value is { readonly sealed: string } {
  return 'sealed' in value;
}

/** The key a sealed value was sealed with. */
export function keyIdOfSealed(sealed: string): string {
  return sealed.slice(4, 40);
}

/** Checks what a command carries: the application must have sealed it. */
export function requireSealed(value: unknown, field: string): { readonly sealed: string } {
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { sealed?: unknown }).sealed !== 'string' ||
    !SEALED_PATTERN.test((value as { sealed: string }).sealed) ||
    Object.keys(value).length !== 1
  ) {
    throw invalidField(field, 'must be sealed personal data');
  }
  return { sealed: (value as { sealed: string }).sealed };
}

export function samePersonalText(a: PersonalText | null, b: PersonalText | null): boolean {
  if (a === null || b === null) return a === b;
  if (isSealed(a)) return isSealed(b) && a.sealed === b.sealed;
  return !isSealed(b) && a.text === b.text;
}

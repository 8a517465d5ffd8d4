import { requireDisplayLine } from './display-text.js';
import { invalidField } from './tenancy.errors.js';

/** In Unicode code points, so that an emoji or a CJK character counts as one, whatever its UTF-16 length. */
export const MAX_NAME_LENGTH = 200;

export interface ResourceName {
  /** What the user typed, trimmed and NFC-normalised: stored in events and shown back. */
  readonly display: string;
  /** The case-insensitive comparison key: two names with the same key collide. */
  readonly key: string;
}

/**
 * Checks and normalises a tenant or workspace name. The display form is NFC-normalised so that
 * visually identical names are stored identically. `field` names it in a refusal.
 */
export function parseResourceName(raw: unknown, field = 'name'): ResourceName {
  if (typeof raw !== 'string') {
    throw invalidField(field, 'must be a string');
  }
  requireDisplayLine(raw, field);
  const display = raw.trim().normalize('NFC');
  const length = codePointLength(display);
  if (length < 1 || length > MAX_NAME_LENGTH) {
    throw invalidField(
      field,
      `must be 1 to ${MAX_NAME_LENGTH} characters long after trimming (got ${length})`,
    );
  }
  return { display, key: resourceNameKey(display) };
}

/**
 * The comparison key of a name already accepted by parseResourceName. Never throws, so that folding
 * old events cannot fail if the validation rules are tightened later.
 *
 * toLowerCase() rather than toLocaleLowerCase(): it is locale-independent by specification (the
 * Unicode default case mapping), so keys do not depend on the host's ICU data or locale. It is simple
 * lowercasing, not full case folding: 'ß' and 'ss' are different keys, as are 'ı' and 'i'.
 * NFC is applied on both sides because lowercasing may produce a non-normalised sequence.
 */
export function resourceNameKey(name: string): string {
  return name.normalize('NFC').toLowerCase().normalize('NFC');
}

function codePointLength(text: string): number {
  let length = 0;
  for (const _codePoint of text) length += 1;
  return length;
}

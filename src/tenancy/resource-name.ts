import { invalidField } from './tenancy.errors.js';

/** In Unicode code points, so that an emoji or a CJK character counts as one, whatever its UTF-16 length. */
export const MAX_NAME_LENGTH = 200;

export interface ResourceName {
  /** What the user typed, trimmed and NFC-normalised: stored in events and shown back. */
  readonly display: string;
  /** The case-insensitive comparison key: two names with the same key collide. */
  readonly key: string;
}

// Control characters (category Cc, which includes \n, \r, \t and NEL) and the two Unicode line and
// paragraph separators break single-line display and logs. Lone surrogates are refused because they
// cannot be encoded as UTF-8 (PostgreSQL's jsonb rejects them).
const FORBIDDEN_CHARACTER = /[\p{Cc}\u2028\u2029]|\p{Cs}/u;
// Format characters that let a name pass for another or rearrange the text shown after it: the
// bidirectional embeddings, overrides and isolates ("acme" followed by U+202E), and the invisible
// ones no script needs in a name (zero-width space, word joiner, invisible operators, byte order
// mark, Mongolian vowel separator). The format characters scripts and emoji do need
// stay allowed: zero-width joiner and non-joiner, the left-to-right and right-to-left marks, soft
// hyphen. Existing names are never checked again (resourceNameKey does not validate).
const SPOOFING_CHARACTER = /[\u202a-\u202e\u2066-\u2069\u200b\u2060-\u2064\ufeff\u180e]/u;

/**
 * Checks and normalises a tenant or workspace name. The display form is NFC-normalised so that
 * visually identical names are stored identically. `field` names it in a refusal.
 */
export function parseResourceName(raw: unknown, field = 'name'): ResourceName {
  if (typeof raw !== 'string') {
    throw invalidField(field, 'must be a string');
  }
  // Checked before trimming: trim() would silently drop a leading or trailing line break.
  if (FORBIDDEN_CHARACTER.test(raw)) {
    throw invalidField(field, 'must not contain control characters, line breaks or unpaired surrogates');
  }
  if (SPOOFING_CHARACTER.test(raw)) {
    throw invalidField(
      field,
      'must not contain bidirectional controls or invisible characters such as zero-width spaces',
    );
  }
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

import { invalidField } from './tenancy.errors.js';

// Control characters (category Cc, which includes \n, \r, \t and NEL) and the two Unicode line and
// paragraph separators break single-line display and logs. Lone surrogates are refused because they
// cannot be encoded as UTF-8 (PostgreSQL's jsonb rejects them).
const LINE_BREAKING = /[\p{Cc}\u2028\u2029]|\p{Cs}/u;
// Format characters that let a text pass for another or rearrange what is shown after it: the
// bidirectional embeddings, overrides and isolates ("acme" followed by U+202E), and the invisible
// ones no script needs (zero-width space, word joiner, invisible operators, byte order mark,
// Mongolian vowel separator). The format characters scripts and emoji do need stay allowed:
// zero-width joiner and non-joiner, the left-to-right and right-to-left marks, soft hyphen.
const MISLEADING = /[\u202a-\u202e\u2066-\u2069\u200b\u2060-\u2064\ufeff\u180e]/u;

/**
 * The rule for a line of text the service stores and shows back (names, a suspension's reason):
 * none of the characters above. Run it before trimming: trim() would silently drop a leading or
 * trailing line break. Text already in the log is never checked again.
 */
export function requireDisplayLine(raw: string, field: string): void {
  if (LINE_BREAKING.test(raw)) {
    throw invalidField(field, 'must not contain control characters, line breaks or unpaired surrogates');
  }
  if (MISLEADING.test(raw)) {
    throw invalidField(
      field,
      'must not contain bidirectional controls or invisible characters such as zero-width spaces',
    );
  }
}

import { describe, expect, it } from '@jest/globals';
import { MAX_NAME_LENGTH, parseResourceName, resourceNameKey } from './resource-name.js';
import { TenancyRuleViolation } from './tenancy.errors.js';

const CONTROL = /control characters/;
const SPOOFING = /bidirectional controls or invisible characters/;

function refusal(raw: unknown): TenancyRuleViolation {
  try {
    parseResourceName(raw);
  } catch (error) {
    if (error instanceof TenancyRuleViolation) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
}

describe('parseResourceName', () => {
  it('trims surrounding whitespace from the display form', () => {
    expect(parseResourceName('  Sales Team \u00a0')).toEqual({ display: 'Sales Team', key: 'sales team' });
  });

  it('keeps inner whitespace as typed', () => {
    expect(parseResourceName('a  b').display).toBe('a  b');
  });

  it('accepts exactly MAX_NAME_LENGTH code points and refuses one more', () => {
    expect(MAX_NAME_LENGTH).toBe(200);
    expect(parseResourceName('x'.repeat(200)).display).toHaveLength(200);
    expect(refusal('x'.repeat(201)).code).toBe('VALIDATION_FAILED');
  });

  it('counts the length after trimming', () => {
    expect(parseResourceName(`   ${'x'.repeat(200)}   `).display).toHaveLength(200);
  });

  it('counts an emoji outside the BMP as one character, not two UTF-16 units', () => {
    const twoHundredEmoji = '😀'.repeat(200);
    expect(twoHundredEmoji.length).toBe(400);
    expect(parseResourceName(twoHundredEmoji).display).toBe(twoHundredEmoji);
    expect(refusal('😀'.repeat(201)).code).toBe('VALIDATION_FAILED');
  });

  it.each(['', '   ', '\u3000'])('refuses a name that is empty after trimming: %j', (raw) => {
    const error = refusal(raw);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/1 to 200 characters/);
  });

  it.each([
    ['NUL', 'a\u0000b', CONTROL],
    ['unit separator', 'a\u001fb', CONTROL],
    ['DEL', 'a\u007fb', CONTROL],
    ['C1 control', 'a\u009fb', CONTROL],
    ['tab', 'a\tb', CONTROL],
    ['line feed inside', 'a\nb', CONTROL],
    ['carriage return', 'a\rb', CONTROL],
    ['trailing line feed that trim would hide', 'abc\n', CONTROL],
    ['leading control character', '\u0001abc', CONTROL],
    ['next line (NEL)', 'a\u0085b', CONTROL],
    ['line separator', 'a\u2028b', CONTROL],
    ['paragraph separator', 'a\u2029b', CONTROL],
    ['unpaired surrogate', 'a\ud800b', CONTROL],
    ['right-to-left override', 'acme\u202e', SPOOFING],
    ['left-to-right embedding', '\u202aacme', SPOOFING],
    ['pop directional formatting', 'ac\u202cme', SPOOFING],
    ['first strong isolate', 'a\u2068cme', SPOOFING],
    ['pop directional isolate', 'acme\u2069', SPOOFING],
    ['zero-width space', 'acme\u200b', SPOOFING],
    ['word joiner', 'ac\u2060me', SPOOFING],
    ['byte order mark inside', 'ac\ufeffme', SPOOFING],
    ['character of the invisible operators (U+2063)', 'a\u2063cme', SPOOFING],
    ['Mongolian vowel separator', 'acme\u180e', SPOOFING],
  ])('refuses a %s', (_label, raw, why) => {
    const error = refusal(raw);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(why);
  });

  it.each([
    ['Persian with a zero-width non-joiner', 'می\u200cخواهم'],
    ['Hebrew with a right-to-left mark', 'צוות\u200f 7'],
    ['a soft hyphen', 'Donau\u00addampf'],
  ])('keeps the format characters scripts and typography use: %s', (_label, raw) => {
    expect(parseResourceName(raw).display).toBe(raw);
  });

  it.each([undefined, null, 42, {}, ['a']])('refuses a non-string: %j', (raw) => {
    expect(refusal(raw).code).toBe('VALIDATION_FAILED');
  });

  it('keeps emoji sequences joined by ZWJ (a format character, not a control character)', () => {
    expect(parseResourceName('👩‍💻 devs').display).toBe('👩‍💻 devs');
  });

  it('gives names that differ only in case the same key', () => {
    expect(parseResourceName('ÉQUIPE Ventes').key).toBe(parseResourceName('équipe ventes').key);
    expect(parseResourceName('Straße').key).toBe(parseResourceName('STRAßE').key);
  });

  it('gives canonically equivalent names (composed vs decomposed) the same display and key', () => {
    const composed = parseResourceName('Caf\u00e9');
    const decomposed = parseResourceName('Cafe\u0301');
    expect(decomposed).toEqual(composed);
  });

  it('does not fold ß to ss: the key is lowercasing, not full case folding', () => {
    expect(parseResourceName('Straße').key).not.toBe(parseResourceName('STRASSE').key);
  });

  it('computes the same key from a stored display form without validating it', () => {
    expect(resourceNameKey('Sales')).toBe(parseResourceName('SALES').key);
    expect(() => resourceNameKey('x'.repeat(500))).not.toThrow();
  });
});

import { describe, expect, it } from '@jest/globals';
import {
  assertJsonStructure,
  DuplicateMemberError,
  JsonTooDeepError,
  MAX_JSON_DEPTH,
} from './json-structure.js';

const nested = (depth: number) => Buffer.from('['.repeat(depth) + ']'.repeat(depth));
const check = (text: string) => () => assertJsonStructure(Buffer.from(text));

describe('JSON body structure', () => {
  it(`accepts ${MAX_JSON_DEPTH} levels and refuses one more`, () => {
    expect(() => assertJsonStructure(nested(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => assertJsonStructure(nested(MAX_JSON_DEPTH + 1))).toThrow(JsonTooDeepError);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const body = Buffer.from(JSON.stringify({ name: `${'['.repeat(100)}"\\${'{'.repeat(100)}` }));
    expect(() => assertJsonStructure(body)).not.toThrow();
  });

  it('refuses an object naming a member twice, at any depth and however the name is spelled', () => {
    for (const [text, member] of [
      ['{"role": "reader", "role": "admin"}', 'role'],
      ['{"a": 1, "b": 2, "c": 3, "b": 4}', 'b'],
      ['{"name": "x", "n\\u0061me": "y"}', 'name'],
      ['{"a\\"b": 1, "a\\u0022b": 2}', 'a"b'],
      ['{"": 1, "": 2}', ''],
      ['{"héllo": 1, "h\\u00e9llo": 2}', 'héllo'],
      ['{"checks": [{"principal": {"type": "user", "id": "u1", "id": "u2"}}]}', 'id'],
      ['[{"x": {"y": [1, {"z": 1, "z": 2}]}}]', 'z'],
      ['{"x": {"a": 1}, "x": {"a": 1}}', 'x'],
    ] as const) {
      let thrown: unknown;
      try {
        assertJsonStructure(Buffer.from(text));
      } catch (error) {
        thrown = error;
      }
      // The name as JSON.parse reads it, escapes decoded.
      expect({ text, thrown }).toEqual({
        text,
        thrown: expect.objectContaining({
          constructor: DuplicateMemberError,
          message: `The request body names the member ${JSON.stringify(member)} twice in one object.`,
        }) as unknown,
      });
    }
  });

  it('does not take a name used again in another object, in a nested one, or as a value, for a repetition', () => {
    for (const text of [
      '{"checks": [{"id": "u1"}, {"id": "u2"}, {"id": "u3"}]}',
      '{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}',
      '{"name": "name", "role": "name", "x": ["name", "name"]}',
      '{"a": 1, "A": 2, "a ": 3}',
      '{"e\\u0301": 1, "\\u00e9": 2}',
      '{"a": {"b": 1}, "b": {"a": 1}}',
    ]) {
      expect(check(text)).not.toThrow();
    }
  });

  it('names a long repeated member only in part', () => {
    const long = 'm'.repeat(1_000);
    expect(check(`{"${long}": 1, "${long}": 2}`)).toThrow(`"${'m'.repeat(64)}…" twice`);
  });

  it('leaves a body that is not well-formed JSON to the parser', () => {
    for (const text of ['{"a": 1, "a', '{"\\x": 1, "\\x": 2}', '}}]]{"a"', '{"a" "a"}']) {
      expect(check(text)).not.toThrow();
    }
  });
});

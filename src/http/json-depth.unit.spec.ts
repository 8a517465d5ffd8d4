import { describe, expect, it } from '@jest/globals';
import { assertJsonDepth, JsonTooDeepError, MAX_JSON_DEPTH } from './json-depth.js';

const nested = (depth: number) => Buffer.from('['.repeat(depth) + ']'.repeat(depth));

describe('JSON body depth', () => {
  it(`accepts ${MAX_JSON_DEPTH} levels and refuses one more`, () => {
    expect(() => assertJsonDepth(nested(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => assertJsonDepth(nested(MAX_JSON_DEPTH + 1))).toThrow(JsonTooDeepError);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const body = Buffer.from(JSON.stringify({ name: `${'['.repeat(100)}"\\${'{'.repeat(100)}` }));
    expect(() => assertJsonDepth(body)).not.toThrow();
  });
});

/**
 * Request bodies are small, flat documents; nothing the API accepts nests deeper than this. A deeper
 * body would be parsed fine by JSON.parse, but class-transformer walks it recursively and overflows
 * the stack (a 500) long before the size limit is reached.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * A body refused by the body parser's verify hook before it is parsed; shaped like body-parser's own
 * errors (a 400, answered MALFORMED_BODY with this message).
 */
export class RefusedBodyError extends Error {
  readonly status = 400;
  readonly type = 'entity.verify.failed';
}

export class JsonTooDeepError extends RefusedBodyError {
  constructor() {
    super(`JSON bodies may nest at most ${MAX_JSON_DEPTH} levels`);
    this.name = 'JsonTooDeepError';
  }
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** One pass over the raw bytes, before parsing, so that depth costs O(size) and no recursion. */
export function assertJsonDepth(body: Buffer): void {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (const byte of body) {
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === BACKSLASH) escaped = true;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth += 1;
      if (depth > MAX_JSON_DEPTH) throw new JsonTooDeepError();
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth -= 1;
  }
}

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

/** Longest member name a refusal repeats; longer ones are cut, since the detail echoes the client. */
const NAME_SHOWN = 64;

/**
 * An object naming one member twice. JSON.parse keeps the last value, while a proxy, a gateway's
 * validator or a log may read the first: `{"role": "reader", "role": "admin"}` would pass as a reader
 * key and be issued as an admin one. RFC 8259 leaves such objects' meaning open; RFC 7493 (I-JSON)
 * forbids them, and so does this service.
 */
export class DuplicateMemberError extends RefusedBodyError {
  constructor(member: string) {
    const shown = member.length > NAME_SHOWN ? `${member.slice(0, NAME_SHOWN)}…` : member;
    super(`The request body names the member ${JSON.stringify(shown)} twice in one object.`);
    this.name = 'DuplicateMemberError';
  }
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/** An open object: the member names it has had (made on its second member), and whether a name comes next. */
interface OpenObject {
  names: Set<string> | undefined;
  first: string | undefined;
  nameNext: boolean;
}

/**
 * One pass over the raw UTF-8 bytes, before parsing, so that its cost is O(size) with no recursion:
 * refuses a body nested deeper than MAX_JSON_DEPTH and an object naming a member twice, however the
 * name is spelled (`"name"` and `"n\u0061me"` are one name). It reads only what a well-formed body
 * holds: anything else is left to the parser, which refuses it. UTF-8 keeps every byte of a
 * multi-byte character above 0x7f, so no such byte is read as a bracket or a quote.
 */
export function assertJsonStructure(body: Buffer): void {
  // One entry per open container: the object's names, or undefined for an array.
  const open: (OpenObject | undefined)[] = [];
  // Where the next backslash is, looked up again only once passed: strings are skipped by indexOf.
  let nextBackslash = -1;
  for (let at = 0; at < body.length; at++) {
    const byte = body[at] as number;
    if (byte === QUOTE) {
      let end = body.indexOf(QUOTE, at + 1);
      while (end !== -1 && escapedAt(body, end, at)) end = body.indexOf(QUOTE, end + 1);
      // Unterminated: the parser refuses it.
      if (end === -1) return;
      const container = open[open.length - 1];
      if (container?.nameNext) {
        container.nameNext = false;
        if (nextBackslash !== Infinity && nextBackslash <= at) {
          const found = body.indexOf(BACKSLASH, at + 1);
          nextBackslash = found === -1 ? Infinity : found;
        }
        addName(container, body, at, end, nextBackslash < end);
      }
      at = end;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      open.push(byte === OPEN_BRACE ? { names: undefined, first: undefined, nameNext: true } : undefined);
      if (open.length > MAX_JSON_DEPTH) throw new JsonTooDeepError();
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      open.pop();
    } else if (byte === COMMA) {
      const container = open[open.length - 1];
      if (container) container.nameNext = true;
    }
  }
}

/** Whether the quote at `quote` is escaped: an odd number of backslashes before it, after `from`. */
function escapedAt(body: Buffer, quote: number, from: number): boolean {
  let backslashes = 0;
  for (let at = quote - 1; at > from && body[at] === BACKSLASH; at--) backslashes++;
  return backslashes % 2 === 1;
}

/** Records the member name spelled from `start` to `end` (its quotes), refusing one seen before. */
function addName(object: OpenObject, body: Buffer, start: number, end: number, hasEscape: boolean): void {
  let name: string;
  if (!hasEscape) name = body.toString('utf8', start + 1, end);
  else {
    try {
      name = JSON.parse(body.toString('utf8', start, end + 1)) as string;
    } catch {
      // An escape JSON does not have: the parser refuses the body.
      return;
    }
  }
  // Most objects have one member, and most of the rest a few: a set only from the second on.
  if (object.first === undefined) {
    object.first = name;
    return;
  }
  object.names ??= new Set([object.first]);
  if (object.names.has(name)) throw new DuplicateMemberError(name);
  object.names.add(name);
}

import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { assertJsonStructure, RefusedBodyError } from './json-structure.js';
import { ProblemError, problem } from './problem.js';

/** Request bodies are small JSON documents; anything larger is refused with 413 before parsing. */
export const BODY_LIMIT = '64kb';
export const JSON_MEDIA_TYPES = ['application/json', 'application/*+json'];

/** Options of the JSON body parser (Nest's option type omits the verify hook, which it passes on). */
export const JSON_BODY_OPTIONS = {
  limit: BODY_LIMIT,
  type: JSON_MEDIA_TYPES,
  // Any JSON value parses, so that `7` or `"x"` is answered "must be a JSON object", not "malformed".
  strict: false,
  verify: (_request: unknown, _response: unknown, body: Buffer, encoding: string) => {
    if (!/^utf-8$/i.test(encoding)) throw new UnsupportedCharsetError(encoding);
    // Bytes that are not UTF-8 would be decoded into replacement characters and stored as such (a
    // name "a\uFFFD\uFFFDb"), so they are refused instead.
    if (!isUtf8(body)) throw new RefusedBodyError('The request body is not valid UTF-8.');
    assertJsonStructure(body);
  },
};

/**
 * JSON is UTF-8 (RFC 8259: between systems it must be, and its media type has no charset). body-parser
 * would decode a body declared UTF-16 or UTF-7 too, but the checks above read the bytes as UTF-8:
 * in UTF-7 a bracket may be spelled `+AFs-`, and a body nested past the depth limit would pass
 * them. Such a body is refused as any other charset is, with the same 415 (see
 * isUnsupportedCharset), before it is decoded.
 */
class UnsupportedCharsetError extends Error {
  readonly status = 415;
  readonly type = 'charset.unsupported';
  readonly expose = true;

  constructor(charset: string) {
    super(`unsupported charset "${charset.toUpperCase()}"`);
  }
}

/** body-parser's refusal of a charset, or ours above: both answered as unsupportedMediaType. */
export function isUnsupportedCharset(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { type?: unknown }).type === 'charset.unsupported'
  );
}

/** A batch of up to 1,000 permission checks, each naming a user id of up to 255 characters. */
export const CHECK_BATCH_BODY_LIMIT = '512kb';
const CHECK_BATCH_ROUTE = /^\/v1\/tenants\/[^/?]+\/permissions\/check\/?(?:\?|$)/;

/** The same parser with more room, for the permission-check route only (it runs first). */
export const CHECK_BATCH_BODY_OPTIONS = {
  ...JSON_BODY_OPTIONS,
  limit: CHECK_BATCH_BODY_LIMIT,
  // body-parser hands over the request it was given, which Express has extended.
  type: (request: IncomingMessage) =>
    CHECK_BATCH_ROUTE.test(request.url ?? '') && (request as Request).is(JSON_MEDIA_TYPES) !== false,
};

/**
 * A body in any other format is refused with 415 before anything reads it: the JSON parser would
 * skip it silently and the request would fail validation for fields it did send.
 */
export function requireJsonBody(request: Request, _response: Response, next: NextFunction): void {
  const length = Number(request.headers['content-length'] ?? 0);
  const hasBody = request.headers['transfer-encoding'] !== undefined || length > 0;
  if (!hasBody || request.is(JSON_MEDIA_TYPES)) {
    next();
    return;
  }
  next(unsupportedMediaType());
}

/** The one 415: a body in another format than JSON, or JSON in another charset than UTF-8. */
export function unsupportedMediaType(): ProblemError {
  return new ProblemError(
    problem(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'Unsupported media type',
      'Request bodies must be JSON in UTF-8, sent with Content-Type: application/json.',
    ),
    { 'Accept-Post': 'application/json', 'Accept-Patch': 'application/json' },
  );
}

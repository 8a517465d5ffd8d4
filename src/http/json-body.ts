import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { assertJsonDepth, RefusedBodyError } from './json-depth.js';
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
    assertUtf8(body, encoding);
    assertJsonDepth(body);
  },
};

/**
 * JSON is UTF-8 unless the request says otherwise: bytes that are not would be decoded into
 * replacement characters and stored as such (a name "a\uFFFD\uFFFDb"), so they are refused instead.
 */
function assertUtf8(body: Buffer, encoding: string): void {
  if (/^utf-?8$/i.test(encoding) && !isUtf8(body))
    throw new RefusedBodyError('The request body is not valid UTF-8.');
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
  next(
    new ProblemError(
      problem(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'Unsupported media type',
        'Request bodies must be JSON, sent with Content-Type: application/json.',
      ),
      { 'Accept-Post': 'application/json', 'Accept-Patch': 'application/json' },
    ),
  );
}

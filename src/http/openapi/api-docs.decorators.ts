import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from './api-schemas.js';
import { PROBLEM_CONTENT_TYPE } from '../problem.js';
import { PROBLEM_SCHEMA } from './api-schemas.js';
import { BEARER_SCHEME } from './openapi.document.js';
import { USER_ID_PATTERN } from '../../tenancy/user-id.js';

/** Error answers of a route: status -> the stable codes it may carry. */
export type ProblemCodes = Readonly<Record<number, readonly string[]>>;

/**
 * Every /v1 route may answer these: a body is read (and refused if it is no JSON, does not parse or
 * is too large) and the query checked before the route's own rules, also on a route that takes no
 * body or no query parameter (README: such a route refuses one rather than ignoring it).
 * RATE_LIMITED: a tenant key's request past TENANCY_RATE_LIMIT_PER_TENANT, refused before the
 * route's own checks. EVENT_FROM_NEWER_VERSION: while two versions run side by side, an older
 * instance refuses every tenant key once its key registry meets a key event only a newer version
 * can read, and a route that reads a tenant's stream or the log refuses when it meets such an event.
 */
const EVERY_ROUTE: ProblemCodes = {
  400: ['VALIDATION_FAILED', 'MALFORMED_BODY'],
  401: ['UNAUTHORIZED'],
  413: ['PAYLOAD_TOO_LARGE'],
  415: ['UNSUPPORTED_MEDIA_TYPE'],
  429: ['RATE_LIMITED'],
  503: ['KEYS_LOADING', 'DATABASE_UNAVAILABLE', 'EVENT_FROM_NEWER_VERSION'],
};

/** Headers a problem answer of this status carries, whichever its code. */
const PROBLEM_HEADERS: Readonly<Record<number, Readonly<Record<string, string>>>> = {
  401: { 'WWW-Authenticate': 'Bearer realm="tenancy"' },
  429: {
    'Retry-After':
      "Seconds to wait: before the tenant's keys send another request (RATE_LIMITED), or open another stream (TOO_MANY_STREAMS)",
  },
  503: { 'Retry-After': 'Seconds to wait before sending the request again' },
};

/** A /v1 route: its summary, the bearer scheme, and its problem+json answers with their codes. */
export function ApiRoute(tag: string, summary: string, problems: ProblemCodes): MethodDecorator {
  const merged: Record<number, string[]> = {};
  for (const source of [problems, EVERY_ROUTE]) {
    for (const [status, codes] of Object.entries(source)) {
      merged[Number(status)] = [...new Set([...(merged[Number(status)] ?? []), ...codes])];
    }
  }
  return applyDecorators(
    ApiTags(tag),
    ApiOperation({ summary }),
    ApiBearerAuth(BEARER_SCHEME),
    ...Object.entries(merged).map(([status, codes]) => {
      const headers = PROBLEM_HEADERS[Number(status)];
      return ApiResponse({
        status: Number(status),
        description: `problem+json with code ${codes.join(', ')}`,
        content: {
          [PROBLEM_CONTENT_TYPE]: {
            schema: {
              ...PROBLEM_SCHEMA,
              properties: { ...PROBLEM_SCHEMA.properties, code: { type: 'string', enum: codes } },
            },
          },
        },
        ...(headers ? { headers: headerObjects(headers) } : {}),
      });
    }),
  );
}

/** OpenAPI header objects: each header with what it means. */
function headerObjects(headers: Readonly<Record<string, string>>) {
  return Object.fromEntries(
    Object.entries(headers).map(([name, meaning]) => [
      name,
      { description: meaning, schema: { type: 'string' } },
    ]),
  );
}

/** A JSON answer with its schema (and headers). */
export function ApiJson(
  status: number,
  description: string,
  schema: SchemaObject,
  headers: Readonly<Record<string, string>> = {},
): MethodDecorator {
  return ApiResponse({
    status,
    description,
    content: { 'application/json': { schema } },
    headers: headerObjects(headers),
  });
}

export const ApiUuidParam = (name: string): MethodDecorator =>
  ApiParam({ name, schema: { type: 'string', format: 'uuid' } });

/** A path parameter that is a user id (user-id.ts). */
export const ApiUserIdParam = (name = 'userId'): MethodDecorator =>
  ApiParam({ name, schema: { type: 'string', pattern: USER_ID_PATTERN } });

export const ApiIfMatch = (): MethodDecorator =>
  ApiHeader({
    name: 'If-Match',
    required: false,
    description:
      'The ETag you hold ("3"), or a list of them ("3", "4"): the change applies only while the tenant stream is at one of ' +
      'them, else 412 REVISION_MISMATCH and nothing is written. A weak tag (W/"3") or one that is no revision ("abc") never ' +
      'matches; * matches whatever revision; a value that is no entity tag is 400.',
  });

/** If-Match on a read of one resource (GET, HEAD): compared as for a change. */
export const ApiIfMatchOnRead = (): MethodDecorator =>
  ApiHeader({
    name: 'If-Match',
    required: false,
    description:
      'The ETag you expect ("3"), or a list of them: the resource is answered only while it is at one of them, else ' +
      '412 REVISION_MISMATCH with its currentRevision. Compared as for a change: a weak tag never matches, * matches ' +
      'whatever revision, a value that is no entity tag is 400. Evaluated before If-None-Match.',
  });

/** PUT of a member or a group member: writes that may create what they name, so * on either header means something. */
export const ApiMemberConditions = (): MethodDecorator =>
  applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: false,
      description:
        'The ETag you hold ("3"), or a list of them: the change applies only while the tenant stream is at one of them, ' +
        'else 412 REVISION_MISMATCH. * only if the user is in already: else 412 PRECONDITION_FAILED.',
    }),
    ApiHeader({
      name: 'If-None-Match',
      required: false,
      description:
        '* adds only: 412 PRECONDITION_FAILED if the user is in already, and nothing is written. Any other value, or ' +
        'with If-Match, is 400. No other write takes this header (400).',
    }),
  );

export const ApiIfNoneMatch = (): MethodDecorator =>
  ApiHeader({
    name: 'If-None-Match',
    required: false,
    description: 'The ETag you hold: 304 while it is current',
  });

export const ApiMinPosition = (): MethodDecorator =>
  ApiHeader({
    name: 'Min-Position',
    required: false,
    description:
      "A write response's position: the read waits (up to 5 s, then 503) until the read models reached it; a position after the log's last event is 400",
  });

export const ETAG_HEADER = { ETag: "The tenant stream's revision as a strong entity tag" } as const;

/** 204: the write applied (or had been), no body; the ETag is the revision the tenant stream is at. */
export const ApiNoContent = (description: string): MethodDecorator =>
  ApiResponse({ status: 204, description, headers: headerObjects(ETAG_HEADER) });

/** 304: If-None-Match names the current ETag, which the answer carries again, without a body. */
export const ApiNotModified = (): MethodDecorator =>
  ApiResponse({
    status: 304,
    description: 'Not modified: If-None-Match names the current ETag',
    headers: headerObjects(ETAG_HEADER),
  });

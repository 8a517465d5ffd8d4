import type { Request, Response } from 'express';
import type { WriteResult } from '../application/commands/write-results.js';
import { ProblemError, problem, validationProblem } from './problem.js';

/** The entity tag of a tenant's resources: the tenant stream's revision, a strong validator. */
export function entityTag(revision: number): string {
  return `"${revision}"`;
}

/** Write answers carry the stream revision (as ETag too) and the log position to read after. */
export function sendWrite<Body extends object>(
  response: Response,
  result: WriteResult<Body>,
  status: number,
  extra: Record<string, unknown> = {},
): Body & { revision: number; position: string | null } {
  response.status(status);
  response.setHeader('ETag', entityTag(result.revision));
  return { ...result.body, ...extra, revision: result.revision, position: result.position ?? null };
}

/**
 * A single resource's read answer: ETag, and 304 Not Modified (no body) when `If-None-Match` names
 * its current tag. If-None-Match compares weakly (RFC 9110 13.1.2), so `W/"3"` matches `"3"`.
 */
export function sendRepresentation<View extends { readonly revision: number }>(
  request: Request,
  response: Response,
  view: View,
): View | undefined {
  const tag = entityTag(view.revision);
  response.setHeader('ETag', tag);
  const header = request.headers['if-none-match'];
  if (typeof header === 'string' && noneMatchNames(header, tag)) {
    response.status(304);
    return undefined;
  }
  return view;
}

function noneMatchNames(header: string, tag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === tag);
}

const STRONG_TAG = /^\s*"(\d{1,15})"\s*$/;
const WEAK_TAG = /^\s*W\/"[^"]*"\s*$/;

/**
 * The revision a change's If-Match header names, for the command to apply only at exactly that
 * revision; undefined without one (or `*`). If-Match compares strongly (RFC 9110 13.1.1): a weak
 * tag never matches, so it is 412 like a stale one; a value that is no entity tag is a 400. Every
 * route that honours If-Match reads it here, before its command writes anything.
 */
export function ifMatchRevisionOf(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = STRONG_TAG.exec(header);
  if (match) return Number(match[1]);
  if (WEAK_TAG.test(header)) {
    throw new ProblemError(
      problem(
        412,
        'REVISION_MISMATCH',
        'Revision mismatch',
        'If-Match needs a strong entity tag such as "3"; a weak tag (W/"3") never matches.',
      ),
    );
  }
  throw validationProblem([{ field: 'If-Match', message: 'must be an entity tag such as "3"' }]);
}

import type { Request, Response } from 'express';
import type { WriteResult } from '../application/commands/write-results.js';

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
 * The revision an If-Match header names; undefined without one (or `*`). If-Match compares
 * strongly (RFC 9110 13.1.1): a weak tag never matches, so it is 'weak' and answered 412.
 */
export function parseIfMatch(header: string | undefined): number | undefined | 'weak' | 'invalid' {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = STRONG_TAG.exec(header);
  if (match) return Number(match[1]);
  return WEAK_TAG.test(header) ? 'weak' : 'invalid';
}

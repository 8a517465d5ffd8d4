import type { Response } from 'express';
import type { WriteResult } from '../application/commands/write-results.js';

/** Write answers carry the stream revision (as ETag too) and the log position to read after. */
export function sendWrite<Body extends object>(
  response: Response,
  result: WriteResult<Body>,
  status: number,
  extra: Record<string, unknown> = {},
): Body & { revision: number; position: string | null } {
  response.status(status);
  response.setHeader('ETag', `"${result.revision}"`);
  return { ...result.body, ...extra, revision: result.revision, position: result.position ?? null };
}

const IF_MATCH = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/;

/** The revision an If-Match header names; undefined without one. */
export function parseIfMatch(header: string | undefined): number | undefined | 'invalid' {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = IF_MATCH.exec(header);
  return match ? Number(match[1]) : 'invalid';
}

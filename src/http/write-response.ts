import type { Request, Response } from 'express';
import { RevisionMismatchError, type IfMatch } from '../application/commands/tenant-command.executor.js';
import type { WriteResult } from '../application/commands/write-results.js';
import type { MemberCondition } from '../tenancy/membership.commands.js';
import { validationProblem } from './problem.js';
import { IF_NONE_MATCH_ON_WRITES } from './request-validation.js';

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
 * A write that goes on in the background (a deletion): 202 with its status resource in `Location`,
 * and, like every write answer, the revision it reached (as ETag too) and its log position.
 */
export function sendAccepted<Body extends object>(
  response: Response,
  result: WriteResult<unknown>,
  location: string,
  body: Body,
): Body & { revision: number; position: string | null } {
  response.setHeader('Location', location);
  return sendWrite(response, { ...result, body }, 202);
}

/**
 * A single resource's read answer: ETag, and 304 Not Modified (no body) when `If-None-Match` names
 * its current tag. If-None-Match compares weakly (RFC 9110 13.1.2), so `W/"3"` matches `"3"`.
 * `If-Match` is evaluated first (13.2.2), as for a write: a read of a revision other than the ones
 * it names is not performed but answered 412 with the current one (13.1.1).
 */
export function sendRepresentation<View extends { readonly revision: number }>(
  request: Request,
  response: Response,
  view: View,
): View | undefined {
  const tag = entityTag(view.revision);
  response.setHeader('ETag', tag);
  const revisions = ifMatchRevisionsOf(request.headers['if-match']);
  if (revisions !== undefined && !revisions.includes(view.revision)) {
    throw new RevisionMismatchError(revisions, view.revision);
  }
  const header = request.headers['if-none-match'];
  if (typeof header === 'string' && noneMatchNames(header, tag)) {
    response.status(304);
    return undefined;
  }
  return view;
}

function noneMatchNames(header: string, tag: string): boolean {
  if (header.trim() === '*') return true;
  return entityTagsOf(header)?.some((candidate) => `"${candidate.opaque}"` === tag) ?? false;
}

/**
 * The revisions a change's If-Match header accepts, for the command to apply only at one of them;
 * undefined without the header or with `*` (the command itself refuses a resource that does not
 * exist). Read per RFC 9110 (13.1.1, 8.8.3): a comma-separated list of entity tags, any one of which
 * matching strongly is enough. A weak tag (`W/"3"`) never matches, and neither does a well-formed tag
 * that is none of ours (`"abc"`, `"03"`): they are dropped, so a list of only such tags is 412. Only
 * a value that is no list of entity tags is a 400. Every route that writes
 * to a tenant's stream reads its If-Match here, before its command writes anything; the executor
 * compares the revisions.
 */
export function ifMatchRevisionsOf(header: string | undefined): IfMatch | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const tags = entityTagsOf(header);
  if (tags === undefined) {
    throw validationProblem([{ field: 'If-Match', message: 'must be an entity tag such as "3"' }]);
  }
  // A list left with nothing that could match is handed on empty: the command refuses it 412 like a
  // stale tag, with the current revision, and counts it as such.
  return tags.flatMap((tag) => {
    if (tag.weak || !REVISION.test(tag.opaque)) return [];
    const revision = Number(tag.opaque);
    return Number.isSafeInteger(revision) ? [revision] : [];
  });
}

/**
 * PUT of a member or of a group member, the writes that may create what they name:
 * `If-None-Match: *` adds only (412 if the user is in already), `If-Match: *` changes only (412 if
 * not), as RFC 9110 13.1.1 and 13.1.2 define them for a target that may not exist. Any other
 * If-None-Match is a 400.
 */
export function memberConditionOf(
  ifMatch: string | undefined,
  ifNoneMatch: string | undefined,
): MemberCondition | undefined {
  const matchAny = ifMatch?.trim() === '*';
  if (ifNoneMatch === undefined) return matchAny ? 'present' : undefined;
  if (ifNoneMatch.trim() !== '*') {
    throw validationProblem([{ field: 'If-None-Match', message: IF_NONE_MATCH_ON_WRITES }]);
  }
  if (ifMatch !== undefined) {
    throw validationProblem([{ field: 'If-None-Match', message: 'cannot be sent with If-Match' }]);
  }
  return 'absent';
}

/** A revision as entityTag writes it: digits, no leading zero. */
const REVISION = /^(?:0|[1-9][0-9]*)$/;
/** One element of an If-Match or If-None-Match list: optional W/, then a quoted run of etagc (RFC 9110 8.8.3). */
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"/;

/** The entity tags of a list (empty elements allowed, as RFC 9110 5.6.1 asks); undefined if broken. */
function entityTagsOf(header: string): { weak: boolean; opaque: string }[] | undefined {
  const tags: { weak: boolean; opaque: string }[] = [];
  let rest = header;
  for (;;) {
    rest = rest.replace(/^[ \t,]+/, '');
    if (rest === '') return tags.length > 0 ? tags : undefined;
    const match = ENTITY_TAG.exec(rest);
    if (!match) return undefined;
    tags.push({ weak: match[1] !== undefined, opaque: match[2] ?? '' });
    rest = rest.slice(match[0].length).replace(/^[ \t]+/, '');
    if (rest !== '' && !rest.startsWith(',')) return undefined;
  }
}

import { createHash } from 'node:crypto';
import { isCanonicalUuid } from '../../tenancy/uuid.js';
import { MAX_USER_ID_LENGTH } from '../../tenancy/user-id.js';
import { invalidField, type TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';

/**
 * A read-model page cursor: the log position the last row shown was written at and its key (a
 * UUID, or a user id in the lists of members), opaque to clients.
 */
export interface KeysetCursor {
  readonly position: string;
  readonly id: string;
}

/**
 * A cursor carries a tag of the listing that handed it out (the list, its tenant, its filters and
 * the caller's scope), so that one sent to another list, tenant or filter is refused instead of
 * being read as a place in a list where it means nothing (rows skipped or shown twice, silently).
 */
const KEYSET = /^([0-9a-f]{12})\.([0-9a-f]{16}-[0-9a-f]{16})\.(.+)$/;

export function encodeCursor(cursor: KeysetCursor, listing: string): string {
  return Buffer.from(`${listingTag(listing)}.${cursor.position}.${cursor.id}`, 'utf8').toString('base64url');
}

/**
 * The cursor's position and key, the key checked to be of the list's kind (a UUID unless told
 * otherwise): a forged cursor, or one of another listing, is a 400, never a query that fails on the
 * key's type.
 */
export function decodeCursor(
  raw: string,
  listing: string,
  isKey: (key: string) => boolean = isCanonicalUuid,
): KeysetCursor {
  const [, tag, position, id] = KEYSET.exec(Buffer.from(raw, 'base64url').toString('utf8')) ?? [];
  if (tag !== listingTag(listing) || position === undefined || id === undefined || !isKey(id)) {
    throw foreignCursor();
  }
  return { position, id };
}

/** The tag of a listing that every cursor of it carries (the permission lists' cursors too). */
export function listingTag(listing: string): string {
  return createHash('sha256').update(listing).digest('hex').slice(0, 12);
}

/** The longest cursor any list hands out: a keyset cursor naming the longest user id. */
export const MAX_CURSOR_LENGTH = encodeCursor(
  { position: `${'0'.repeat(16)}-${'0'.repeat(16)}`, id: 'x'.repeat(MAX_USER_ID_LENGTH) },
  '',
).length;

export function foreignCursor(): TenancyRuleViolation {
  return invalidField('cursor', 'is not one this service handed out');
}

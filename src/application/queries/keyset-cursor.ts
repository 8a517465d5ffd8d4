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

const KEYSET = /^([0-9a-f]{16}-[0-9a-f]{16})\.(.+)$/;

export function encodeCursor(cursor: KeysetCursor): string {
  return Buffer.from(`${cursor.position}.${cursor.id}`, 'utf8').toString('base64url');
}

/**
 * The cursor's position and key, the key checked to be of the list's kind (a UUID unless told
 * otherwise): a forged cursor is a 400, never a query that fails on the key's type.
 */
export function decodeCursor(raw: string, isKey: (key: string) => boolean = isCanonicalUuid): KeysetCursor {
  const [, position, id] = KEYSET.exec(Buffer.from(raw, 'base64url').toString('utf8')) ?? [];
  if (position === undefined || id === undefined || !isKey(id)) throw foreignCursor();
  return { position, id };
}

/** The longest cursor any list hands out: a keyset cursor naming the longest user id. */
export const MAX_CURSOR_LENGTH = encodeCursor({
  position: `${'0'.repeat(16)}-${'0'.repeat(16)}`,
  id: 'x'.repeat(MAX_USER_ID_LENGTH),
}).length;

export function foreignCursor(): TenancyRuleViolation {
  return invalidField('cursor', 'is not one this service handed out');
}

import type { PrincipalRef } from '../../tenancy/membership.events.js';
import { isPrincipalType } from '../../tenancy/permissions.js';
import { isUserId } from '../../tenancy/user-id.js';
import { foreignCursor, listingTag } from '../queries/keyset-cursor.js';

/**
 * Page cursors for lists answered from the tenant state, opaque to clients like the read models'
 * cursors: a workspace's creation ordinal, or the principal an access listing stopped at, after
 * the tag of the listing that handed it out (keyset-cursor.ts), which a cursor sent to another
 * listing does not match.
 */
const ORDINAL = /^([0-9a-f]{12})\.o([0-9]{1,15})$/;
const PRINCIPAL = /^([0-9a-f]{12})\.p(user|group|apiKey):(.+)$/;

export function encodeOrdinalCursor(ordinal: number, listing: string): string {
  return Buffer.from(`${listingTag(listing)}.o${ordinal}`, 'utf8').toString('base64url');
}

export function decodeOrdinalCursor(raw: string, listing: string): number {
  const match = ORDINAL.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!match || match[1] !== listingTag(listing)) throw foreignCursor();
  return Number(match[2]);
}

export function encodePrincipalCursor(principal: PrincipalRef, listing: string): string {
  return Buffer.from(`${listingTag(listing)}.p${principal.type}:${principal.id}`, 'utf8').toString(
    'base64url',
  );
}

export function decodePrincipalCursor(raw: string, listing: string): PrincipalRef {
  const match = PRINCIPAL.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  const [, tag, type, id] = match ?? [];
  if (tag !== listingTag(listing)) throw foreignCursor();
  // User ids are the strictest of the three shapes' character sets; UUIDs pass it too.
  if (!isPrincipalType(type) || !isUserId(id)) throw foreignCursor();
  return { type, id };
}

import type { PrincipalRef } from '../../tenancy/membership.events.js';
import { isPrincipalType } from '../../tenancy/permissions.js';
import { isUserId } from '../../tenancy/user-id.js';
import { foreignCursor } from '../queries/keyset-cursor.js';

/**
 * Page cursors for lists answered from the tenant state, opaque to clients like the read models'
 * cursors: a workspace's creation ordinal, or the principal an access listing stopped at.
 */
const ORDINAL = /^o([0-9]{1,15})$/;
const PRINCIPAL = /^p(user|group|apiKey):(.+)$/;

export function encodeOrdinalCursor(ordinal: number): string {
  return Buffer.from(`o${ordinal}`, 'utf8').toString('base64url');
}

export function decodeOrdinalCursor(raw: string): number {
  const match = ORDINAL.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!match) throw foreignCursor();
  return Number(match[1]);
}

export function encodePrincipalCursor(principal: PrincipalRef): string {
  return Buffer.from(`p${principal.type}:${principal.id}`, 'utf8').toString('base64url');
}

export function decodePrincipalCursor(raw: string): PrincipalRef {
  const match = PRINCIPAL.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  const [, type, id] = match ?? [];
  // User ids are the strictest of the three shapes' character sets; UUIDs pass it too.
  if (!isPrincipalType(type) || !isUserId(id)) throw foreignCursor();
  return { type, id };
}

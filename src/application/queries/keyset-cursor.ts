import { invalidField } from '../../tenancy/tenancy.errors.js';

/** A page cursor: the sort key of the last item shown, opaque to clients. */
export interface KeysetCursor {
  readonly position: string;
  readonly id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const POSITION = /^[0-9a-f]{16}-[0-9a-f]{16}$/;

export function encodeCursor(cursor: KeysetCursor): string {
  return Buffer.from(`${cursor.position}.${cursor.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): KeysetCursor {
  const [position, id] = Buffer.from(raw, 'base64url').toString('utf8').split('.');
  if (!position || !id || !POSITION.test(position) || !UUID.test(id)) {
    throw invalidField('cursor', 'is not one this service handed out');
  }
  return { position, id };
}

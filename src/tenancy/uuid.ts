import { createHash } from 'node:crypto';

// Lowercase only: ids end up in stream names and keys, where 'ABC…' and 'abc…' would be two tenants.
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ANY_CASE_UUID = new RegExp(CANONICAL_UUID.source, 'i');

export function isCanonicalUuid(value: unknown): value is string {
  return typeof value === 'string' && CANONICAL_UUID.test(value);
}

/** A UUID in any case, as ids in paths and bodies are accepted (and then lower-cased). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && ANY_CASE_UUID.test(value);
}

/** RFC 4122 (RFC 9562) name-based UUID, version 5 (SHA-1): the same namespace and name always give the same id. */
export function uuidV5(name: string, namespace: string): string {
  if (!ANY_CASE_UUID.test(namespace)) {
    throw new Error(`UUIDv5 namespace must be a UUID, got '${namespace}'`);
  }
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A UUID as a uuid column compares it: in any case, the same id. What keys rows by an id read from
 * stored events, which keep whatever case they were written in (an import keeps a file's), uses it.
 */
export function uuidKey(value: string): string {
  return value.toLowerCase();
}

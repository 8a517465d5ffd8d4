import type { Position } from './event-store.port.js';

/**
 * Both adapters locate an event by a pair of unsigned 64-bit numbers: PostgreSQL by
 * (transaction id, sequence value), EventStoreDB by (commit, prepare). Encoding them as fixed-width
 * hex keeps positions opaque to callers yet ordered as plain strings, so a consumer can compare
 * two positions of the same store without parsing them. The PostgreSQL adapter also spells them
 * in SQL, as its reads select them (eventColumns in postgres/postgres-event-store.ts): a change
 * here changes that too, and the store's contract suite fails if the two differ.
 */
const WIDTH = 16;
const POSITION_PATTERN = /^[0-9a-f]{16}-[0-9a-f]{16}$/;

export function encodePosition(major: bigint, minor: bigint): Position {
  if (major < 0n || minor < 0n) throw new RangeError('position parts must not be negative');
  return `${major.toString(16).padStart(WIDTH, '0')}-${minor.toString(16).padStart(WIDTH, '0')}` as Position;
}

export function decodePosition(position: string): { major: bigint; minor: bigint } {
  if (!isPosition(position)) throw new InvalidPositionError(position);
  const [major, minor] = position.split('-') as [string, string];
  return { major: BigInt(`0x${major}`), minor: BigInt(`0x${minor}`) };
}

export function isPosition(value: string): value is Position {
  return POSITION_PATTERN.test(value);
}

export function comparePositions(a: Position, b: Position): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class InvalidPositionError extends Error {
  constructor(readonly value: string) {
    super(`Not a log position: ${JSON.stringify(value.slice(0, 80))}`);
    this.name = 'InvalidPositionError';
  }
}

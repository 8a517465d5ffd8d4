import { textArrayLiteral, type SqlValue } from '../src/database/sql-statement.js';
import type { StagingRow } from './projection.js';

/**
 * Rows in COPY's binary format, for a bulk load: PostgreSQL then takes each value as it is stored
 * instead of parsing it from text. Sampled with perf for 6 s while a 1,000,000-event rebuild
 * loaded, the server spent 45% of its CPU parsing COPY text, most of it in uuid_in, array_in (the
 * paths, arrays of uuids) and timestamptz_in.
 *
 * A value is written so only where its binary form is certain to be what PostgreSQL makes of its
 * text. A uuid or a timestamp in another spelling, a number given as text, a column of another
 * type: for any of these `copyBinaryBlocks` answers undefined before a byte is sent, and the
 * caller copies the rows as text, which PostgreSQL reads (or refuses) as it always did.
 */

/** Type OIDs of the columns this format writes (pg_type.oid). */
export const BINARY_COPY_TYPES = {
  bool: 16,
  int8: 20,
  int4: 23,
  text: 25,
  textArray: 1009,
  timestamptz: 1184,
  uuid: 2950,
  uuidArray: 2951,
} as const;

const BLOCK_BYTES = 256 * 1024;
/** PGCOPY\n\377\r\n\0, then no flags and no header extension. */
const SIGNATURE = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]);
const HEADER_BYTES = SIGNATURE.length + 8;
/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix milliseconds. */
const POSTGRES_EPOCH_MS = 946_684_800_000;
const TWO_TO_32 = 4_294_967_296;

/** Why a value is left to the text format: thrown inside the encoder, answered as undefined. */
class NotExact extends Error {}
const NOT_EXACT = new NotExact();

class BlockWriter {
  readonly blocks: Buffer[] = [];
  private block = Buffer.allocUnsafe(BLOCK_BYTES);
  private used = 0;

  /** Room for `bytes` more in the current block (rows may run across blocks: COPY reads a stream). */
  room(bytes: number): void {
    if (this.used + bytes <= this.block.length) return;
    if (this.used > 0) this.blocks.push(this.block.subarray(0, this.used));
    this.block = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, bytes));
    this.used = 0;
  }

  int16(value: number): void {
    this.room(2);
    const { block, used } = this;
    block[used] = (value >> 8) & 0xff;
    block[used + 1] = value & 0xff;
    this.used = used + 2;
  }

  int32(value: number): void {
    this.room(4);
    putInt32(this.block, this.used, value);
    this.used += 4;
  }

  /** A safe integer as int64. */
  int64(value: number): void {
    this.room(8);
    const high = Math.floor(value / TWO_TO_32);
    putInt32(this.block, this.used, high);
    putInt32(this.block, this.used + 4, value - high * TWO_TO_32);
    this.used += 8;
  }

  bytes(buffer: Buffer): void {
    this.room(buffer.length);
    this.used += buffer.copy(this.block, this.used);
  }

  /** A length-prefixed UTF-8 string. */
  text(value: string): void {
    // UTF-8 takes at most three bytes per UTF-16 unit.
    this.room(4 + value.length * 3);
    const { block, used } = this;
    let written = 0;
    if (value.length <= SHORT_TEXT) {
      // Short ASCII byte by byte: cheaper than a call into Buffer's encoder for a few characters.
      for (; written < value.length; written++) {
        const code = value.charCodeAt(written);
        if (code >= 0x80) break;
        block[used + 4 + written] = code;
      }
    }
    if (written < value.length) written = block.write(value, used + 4);
    putInt32(block, used, written);
    this.used = used + 4 + written;
  }

  /** A length-prefixed uuid, read as uuid_in reads it (32 hex digits, a hyphen allowed after any four, braces around). */
  uuid(value: string): void {
    this.room(20);
    const { block, used } = this;
    putInt32(block, used, 16);
    if (value.length === 36 && isCanonical(value)) {
      for (let byte = 0; byte < 16; byte++) {
        const at = CANONICAL_DIGITS[byte] as number;
        const high = HEX[value.charCodeAt(at)] as number;
        const low = HEX[value.charCodeAt(at + 1)] as number;
        if ((high | low) < 0) throw NOT_EXACT;
        block[used + 4 + byte] = (high << 4) | low;
      }
    } else {
      uuidSpelledOtherwise(value, block, used + 4);
    }
    this.used = used + 20;
  }

  finish(): Buffer[] {
    if (this.used > 0) this.blocks.push(this.block.subarray(0, this.used));
    return this.blocks;
  }
}

/** The low 32 bits of an integer, big-endian, without the checks of Buffer's writers. */
function putInt32(block: Buffer, at: number, value: number): void {
  block[at] = (value >>> 24) & 0xff;
  block[at + 1] = (value >>> 16) & 0xff;
  block[at + 2] = (value >>> 8) & 0xff;
  block[at + 3] = value & 0xff;
}

/** Hex digit values by UTF-16 code unit; -1 for anything else. */
const HEX = new Int8Array(65_536).fill(-1);
for (let digit = 0; digit < 16; digit++) {
  const spelled = digit.toString(16);
  HEX[spelled.charCodeAt(0)] = digit;
  HEX[spelled.toUpperCase().charCodeAt(0)] = digit;
}
/** Where each byte's two digits start in 8-4-4-4-12. */
const CANONICAL_DIGITS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const SHORT_TEXT = 64;

function isCanonical(value: string): boolean {
  return (
    value.charCodeAt(8) === 0x2d &&
    value.charCodeAt(13) === 0x2d &&
    value.charCodeAt(18) === 0x2d &&
    value.charCodeAt(23) === 0x2d
  );
}

/** uuid_in's other spellings: no hyphens, a hyphen after any four digits, braces around. */
function uuidSpelledOtherwise(value: string, block: Buffer, into: number): void {
  let at = 0;
  let end = value.length;
  if (value.charCodeAt(0) === 0x7b /* { */) {
    if (value.charCodeAt(end - 1) !== 0x7d /* } */) throw NOT_EXACT;
    at = 1;
    end -= 1;
  }
  for (let byte = 0; byte < 16; byte++) {
    if (at + 1 >= end) throw NOT_EXACT;
    const high = HEX[value.charCodeAt(at)] as number;
    const low = HEX[value.charCodeAt(at + 1)] as number;
    if ((high | low) < 0) throw NOT_EXACT;
    block[into + byte] = (high << 4) | low;
    at += 2;
    if (value.charCodeAt(at) === 0x2d /* - */ && byte % 2 === 1 && byte < 15) at += 1;
  }
  if (at !== end) throw NOT_EXACT;
}

function digits(value: string, from: number, count: number): number {
  let result = 0;
  for (let index = from; index < from + count; index++) {
    const digit = value.charCodeAt(index) - 0x30;
    if (digit < 0 || digit > 9) throw NOT_EXACT;
    result = result * 10 + digit;
  }
  return result;
}

/**
 * Microseconds since 2000-01-01 UTC of a timestamp written as toISOString writes it, with 0 to 6
 * fraction digits and `Z` or a `±hh:mm` offset; any other spelling (a space for the `T`, no zone,
 * a leap second, hour 24) is not exact here.
 */
function timestampMicros(value: string): number {
  // yyyy-mm-ddThh:mm:ss
  if (value.length < 20 || value.charCodeAt(4) !== 0x2d || value.charCodeAt(7) !== 0x2d) throw NOT_EXACT;
  if (value.charCodeAt(10) !== 0x54 || value.charCodeAt(13) !== 0x3a || value.charCodeAt(16) !== 0x3a) {
    throw NOT_EXACT;
  }
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    throw NOT_EXACT;
  }
  let at = 19;
  let fraction = 0;
  if (value.charCodeAt(at) === 0x2e /* . */) {
    const start = ++at;
    while (
      at < value.length &&
      at - start < 7 &&
      value.charCodeAt(at) >= 0x30 &&
      value.charCodeAt(at) <= 0x39
    )
      at++;
    const count = at - start;
    if (count === 0 || count > 6) throw NOT_EXACT;
    fraction = digits(value, start, count) * 10 ** (6 - count);
  }
  let offsetMinutes = 0;
  const zone = value.charCodeAt(at);
  if (zone === 0x5a /* Z */ && at + 1 === value.length) {
    // UTC
  } else if (
    (zone === 0x2b || zone === 0x2d) &&
    at + 6 === value.length &&
    value.charCodeAt(at + 3) === 0x3a
  ) {
    const hours = digits(value, at + 1, 2);
    const minutes = digits(value, at + 4, 2);
    if (hours > 14 || minutes > 59) throw NOT_EXACT;
    offsetMinutes = (zone === 0x2b ? 1 : -1) * (hours * 60 + minutes);
  } else {
    throw NOT_EXACT;
  }
  // A day the month does not have (February 30) is refused by PostgreSQL: left to it.
  if (day > daysInMonth(year, month)) throw NOT_EXACT;
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const micros = (local - offsetMinutes * 60_000 - POSTGRES_EPOCH_MS) * 1000 + fraction;
  if (!Number.isSafeInteger(micros)) throw NOT_EXACT;
  return micros;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** The last timestamp read and its value: a row's timestamps, and a command's events, mostly share one. */
let lastTimestamp = '';
let lastMicros = 0;

function writeValue(writer: BlockWriter, type: number, value: SqlValue): void {
  if (value === null) {
    writer.int32(-1);
    return;
  }
  switch (type) {
    case BINARY_COPY_TYPES.text:
      // As the text format spells it.
      writer.text(typeof value === 'object' ? textArrayLiteral(value) : String(value));
      return;
    case BINARY_COPY_TYPES.uuid:
      if (typeof value !== 'string') throw NOT_EXACT;
      writer.uuid(value);
      return;
    case BINARY_COPY_TYPES.int4:
      if (typeof value !== 'number' || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
        throw NOT_EXACT;
      }
      writer.int32(4);
      writer.int32(value);
      return;
    case BINARY_COPY_TYPES.int8:
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw NOT_EXACT;
      writer.int32(8);
      writer.int64(value);
      return;
    case BINARY_COPY_TYPES.bool:
      if (typeof value !== 'boolean') throw NOT_EXACT;
      writer.int32(1);
      writer.bytes(value ? TRUE : FALSE);
      return;
    case BINARY_COPY_TYPES.timestamptz:
      if (typeof value !== 'string') throw NOT_EXACT;
      if (value !== lastTimestamp) {
        lastMicros = timestampMicros(value);
        lastTimestamp = value;
      }
      writer.int32(8);
      writer.int64(lastMicros);
      return;
    case BINARY_COPY_TYPES.uuidArray:
    case BINARY_COPY_TYPES.textArray:
      if (typeof value !== 'object') throw NOT_EXACT;
      writeArray(
        writer,
        type === BINARY_COPY_TYPES.uuidArray ? BINARY_COPY_TYPES.uuid : BINARY_COPY_TYPES.text,
        value,
      );
      return;
    default:
      throw NOT_EXACT;
  }
}
const TRUE = Buffer.from([1]);
const FALSE = Buffer.from([0]);

/** A one-dimensional array without nulls, as array_send writes it. */
function writeArray(writer: BlockWriter, elementType: number, items: readonly string[]): void {
  // Its length first: a dimension's header, and each element's length and bytes.
  let bytes = items.length === 0 ? 12 : 20;
  for (const item of items) {
    if (typeof item !== 'string') throw NOT_EXACT;
    bytes += 4 + (elementType === BINARY_COPY_TYPES.uuid ? 16 : Buffer.byteLength(item, 'utf8'));
  }
  writer.int32(bytes);
  writer.int32(items.length === 0 ? 0 : 1);
  writer.int32(0);
  writer.int32(elementType);
  if (items.length > 0) {
    writer.int32(items.length);
    writer.int32(1);
  }
  for (const item of items) writeValue(writer, elementType, item);
}

/**
 * The rows in COPY's binary format for columns of these types (pg_type OIDs, in column order), as
 * blocks ready to send; undefined if any value's binary form is not certain (see above).
 */
export function copyBinaryBlocks(
  rows: readonly StagingRow[],
  types: readonly number[],
): Buffer[] | undefined {
  const writer = new BlockWriter();
  writer.room(HEADER_BYTES);
  writer.bytes(SIGNATURE);
  writer.int32(0);
  writer.int32(0);
  try {
    for (const row of rows) {
      if (row.length !== types.length) return undefined;
      writer.int16(row.length);
      for (let column = 0; column < row.length; column++) {
        writeValue(writer, types[column] as number, row[column] as SqlValue);
      }
    }
  } catch (error) {
    if (error instanceof NotExact) return undefined;
    throw error;
  }
  writer.int16(-1);
  return writer.finish();
}

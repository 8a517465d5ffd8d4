import { textArrayLiteral, type SqlValue } from '../src/database/sql-statement.js';
import type { StagingRow } from './projection.js';

/** Size of the blocks the COPY text is written into: large enough that a block holds many rows. */
const BLOCK_BYTES = 256 * 1024;
/** Characters COPY's text format gives a meaning: field and row ends, and its escape character. */
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;

/**
 * Rows (values in column order) in COPY's text format, as UTF-8 blocks ready to send.
 *
 * Each row is built as one string and written straight into a block. Before, the fields of every
 * row were joined, then all the rows into one string of tens of megabytes per chunk, which was
 * then encoded whole: a heap sampling of a 1,000,000-event rebuild counted 9.1 GB allocated while
 * it loaded, 6.8 GB with the blocks, and the load took the process 20.4-24.6 s of CPU instead of
 * 26.4-30.2 s (three alternated runs each).
 */
export function copyTextBlocks(rows: readonly StagingRow[]): Buffer[] {
  const blocks: Buffer[] = [];
  let block = Buffer.allocUnsafe(BLOCK_BYTES);
  let used = 0;
  for (const row of rows) {
    let line = '';
    for (let column = 0; column < row.length; column++) {
      if (column > 0) line += '\t';
      line += copyField(row[column] as SqlValue);
    }
    line += '\n';
    // UTF-8 takes at most three bytes per UTF-16 unit.
    const most = line.length * 3;
    if (used + most > block.length) {
      if (used > 0) blocks.push(block.subarray(0, used));
      block = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, most));
      used = 0;
    }
    used += block.write(line, used);
  }
  if (used > 0) blocks.push(block.subarray(0, used));
  return blocks;
}

/** A value in COPY's text format; an array as PostgreSQL's array literal, then escaped as text. */
function copyField(value: SqlValue): string {
  if (value === null) return '\\N';
  switch (typeof value) {
    case 'string':
      return escapeCopyText(value);
    case 'number':
    case 'boolean':
      return String(value);
    default:
      return escapeCopyText(textArrayLiteral(value));
  }
}

function escapeCopyText(value: string): string {
  return COPY_SPECIAL.test(value)
    ? value.replace(COPY_SPECIALS, (character) =>
        character === '\\' ? '\\\\' : character === '\t' ? '\\t' : character === '\n' ? '\\n' : '\\r',
      )
    : value;
}

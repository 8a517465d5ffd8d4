import { describe, expect, it } from '@jest/globals';
import { copyTextBlocks } from '../../projections/copy-text.js';

const text = (blocks: readonly Buffer[]) => Buffer.concat(blocks).toString('utf8');

describe('COPY text in blocks', () => {
  it('rows that fill several blocks, multi-byte characters included, come out whole and in order', () => {
    // About 600 kB of text: rows cross the blocks' ends, and the two-, three- and four-byte
    // characters make the byte length differ from the string length.
    const rows = Array.from({ length: 6_000 }, (_, index) => [
      `row ${index} é ✓ 𝄞`,
      index,
      index % 2 === 0,
      'x'.repeat(index % 97),
    ]);
    const blocks = copyTextBlocks(rows);
    expect(blocks.length).toBeGreaterThan(1);
    expect(text(blocks)).toBe(rows.map((row) => `${row.join('\t')}\n`).join(''));
  });

  it('a row longer than a block gets a block of its own size', () => {
    const long = '✓'.repeat(300_000);
    const blocks = copyTextBlocks([['before'], [long], ['after']]);
    expect(text(blocks)).toBe(`before\n${long}\nafter\n`);
  });

  it('writes NULL as \\N and escapes what the format gives a meaning, arrays as literals', () => {
    const blocks = copyTextBlocks([[null, '\\N', 'tab\there', 'line\nbreak\r', ['a "b"', 'c\\d', 'e\tf']]]);
    expect(text(blocks)).toBe(
      '\\N\t\\\\N\ttab\\there\tline\\nbreak\\r\t{"a \\\\"b\\\\"","c\\\\\\\\d","e\\tf"}\n',
    );
  });

  it('no rows, no blocks', () => {
    expect(copyTextBlocks([])).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { copyBinaryBlocks, BINARY_COPY_TYPES as T } from '../../projections/copy-binary.js';
import { copyRows } from '../../projections/projection.applier.js';
import type { StagingRow } from '../../projections/projection.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const COLUMNS = ['n', 'u', 't', 'i4', 'i8', 'b', 'ts', 'ua', 'ta'] as const;
const TYPES = [T.int4, T.uuid, T.text, T.int4, T.int8, T.bool, T.timestamptz, T.uuidArray, T.textArray];
const A = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
const B = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

/** Values a bulk load meets, and the edges of each type's binary form. */
const EXACT: StagingRow[] = [
  [1, A, 'plain', 0, 0, true, '2026-12-05T03:10:24.123Z', [A, B], ['a', 'b']],
  [
    2,
    A.toUpperCase(),
    'tab\there, line\nthere, back\\slash, cr\r',
    -1,
    -1,
    false,
    '2000-01-01T00:00:00Z',
    [],
    [],
  ],
  [
    3,
    A.replaceAll('-', ''),
    'é, 漢字, 🙂 and a lone \ud800',
    2_147_483_647,
    Number.MAX_SAFE_INTEGER,
    true,
    '1999-12-31T23:59:59.999999Z',
    [B],
    ['', 'b,c', '"q"', '\\', '{x}', 'NULL'],
  ],
  [
    4,
    `{${A}}`,
    'x'.repeat(63) + 'é' + 'y'.repeat(100),
    -2_147_483_648,
    -Number.MAX_SAFE_INTEGER,
    false,
    '2024-02-29T12:00:00+05:30',
    [A, A.toUpperCase()],
    ['é'.repeat(70)],
  ],
  [
    5,
    'a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11',
    '',
    7,
    12_345_678_901,
    true,
    '1900-06-15T08:30:00.1-14:00',
    [B, A, B],
    ['x'],
  ],
  [6, null, null, null, null, null, null, null, null],
  [7, B, '\\N', 1, 1, true, '2026-12-05T03:10:24.123456+00:00', [A], ['\\N']],
];

describe('COPY in binary format, as a bulk load writes its rows', () => {
  let database: TestDatabase;
  let client: pg.PoolClient;

  beforeAll(async () => {
    database = await createTestDatabase();
    client = await database.pool.connect();
    // The session's zone must not matter to either form.
    await client.query("SET TimeZone = 'America/New_York'");
    for (const table of ['as_text', 'as_binary']) {
      await client.query(`CREATE TABLE ${table} (n integer, u uuid, t text, i4 integer, i8 bigint, b boolean,
        ts timestamptz, ua uuid[], ta text[])`);
    }
  });

  afterAll(async () => {
    client.release();
    await database.drop();
  });

  const tableText = async (table: string) =>
    (await client.query<{ row: string }>(`SELECT t::text AS row FROM ${table} t ORDER BY n`)).rows.map(
      (r) => r.row,
    );

  it('gives exactly the rows the text format gives', async () => {
    // These rows are all written in binary, none left to the text format.
    expect(copyBinaryBlocks(EXACT, TYPES)).toBeDefined();
    await copyRows(client, 'as_text', COLUMNS, EXACT);
    await copyRows(client, 'as_binary', COLUMNS, EXACT, { binary: true });
    const text = await tableText('as_text');
    expect(text).toHaveLength(EXACT.length);
    expect(await tableText('as_binary')).toEqual(text);
    const { rows } = await client.query<{ differ: number }>(
      `SELECT count(*)::int AS differ FROM ((TABLE as_text EXCEPT ALL TABLE as_binary) UNION ALL (TABLE as_binary EXCEPT ALL TABLE as_text)) d`,
    );
    expect(rows[0]?.differ).toBe(0);
  });

  it.each<[string, StagingRow]>([
    ['a timestamp with a space for the T', [10, A, 'x', 1, 1, true, '2026-12-05 03:10:24+00', [A], ['x']]],
    ['a timestamp without a zone', [11, A, 'x', 1, 1, true, '2026-12-05T03:10:24.5', [A], ['x']]],
    [
      'a timestamp with seven fraction digits',
      [12, A, 'x', 1, 1, true, '2026-12-05T03:10:24.1234567Z', [A], ['x']],
    ],
    ['a timestamp beyond 2^53 microseconds', [13, A, 'x', 1, 1, true, '9999-12-31T23:59:59Z', [A], ['x']]],
    ['an integer given as text', [14, A, 'x', '42', 1, true, '2026-12-05T03:10:24Z', [A], ['x']]],
    ['a boolean given as text', [15, A, 'x', 1, 1, 't', '2026-12-05T03:10:24Z', [A], ['x']]],
  ])('leaves %s to the text format, which reads it as before', async (_what, row) => {
    expect(copyBinaryBlocks([row], TYPES)).toBeUndefined();
    await copyRows(client, 'as_text', COLUMNS, [row]);
    await copyRows(client, 'as_binary', COLUMNS, [row], { binary: true });
    const select = `SELECT t::text AS row FROM %s t WHERE n = ${Number(row[0])}`;
    const [text] = (await client.query<{ row: string }>(select.replace('%s', 'as_text'))).rows;
    const [binary] = (await client.query<{ row: string }>(select.replace('%s', 'as_binary'))).rows;
    expect(binary?.row).toBe(text?.row);
  });

  it.each<[string, StagingRow]>([
    [
      'a malformed uuid',
      [20, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g', 'x', 1, 1, true, '2026-12-05T03:10:24Z', [A], ['x']],
    ],
    ['a day the month does not have', [21, A, 'x', 1, 1, true, '2025-02-29T00:00:00Z', [A], ['x']]],
    ['an integer out of range', [22, A, 'x', 2 ** 31, 1, true, '2026-12-05T03:10:24Z', [A], ['x']]],
  ])('refuses %s as the text format refuses it', async (_what, row) => {
    expect(copyBinaryBlocks([row], TYPES)).toBeUndefined();
    const refusal = (binary: boolean) =>
      copyRows(client, 'as_binary', COLUMNS, [row], { binary }).then(
        () => undefined,
        (error: { code?: string }) => error.code,
      );
    const asText = await refusal(false);
    expect(asText).toMatch(/^22/);
    expect(await refusal(true)).toBe(asText);
  });

  it('takes rows across many blocks', async () => {
    const many: StagingRow[] = Array.from({ length: 30_000 }, (_, index) => [
      100 + index,
      A,
      `row ${index} ${'é'.repeat(index % 90)}`,
      index,
      index * 1_000_003,
      index % 2 === 0,
      `2026-01-01T00:00:${String(index % 60).padStart(2, '0')}.${String(index % 1000).padStart(3, '0')}Z`,
      [A, B, A],
      [`${index}`],
    ]);
    const blocks = copyBinaryBlocks(many, TYPES);
    expect(blocks?.length).toBeGreaterThan(4);
    await client.query('TRUNCATE as_text, as_binary');
    await copyRows(client, 'as_text', COLUMNS, many);
    await copyRows(client, 'as_binary', COLUMNS, many, { binary: true });
    const { rows } = await client.query<{ differ: number; total: number }>(
      `SELECT (SELECT count(*)::int FROM (TABLE as_text EXCEPT ALL TABLE as_binary) d) AS differ,
              (SELECT count(*)::int FROM as_binary) AS total`,
    );
    expect(rows[0]).toEqual({ differ: 0, total: many.length });
  });
});

import { describe, expect, it } from '@jest/globals';
import { inlineStatement, sql, sqlText } from './sql-statement.js';

describe('sql', () => {
  it('makes each interpolated value a parameter, and writes SQL text as it is', () => {
    expect(sql`SELECT ${sqlText('a, b')} FROM t WHERE a = ${1} AND b = ${'x'}`).toEqual({
      text: 'SELECT a, b FROM t WHERE a = $1 AND b = $2',
      values: [1, 'x'],
    });
  });

  it('splices a statement written on its own, its parameters numbered after those before it', () => {
    const condition = sql`(${'t1'}::uuid IS NULL OR g.w = ANY(${['a', 'b']}::text[]) OR g.v = ${'t1'})`;
    const statement = sql`SELECT * FROM g WHERE g.id = ${7} AND ${condition} AND g.z = ${false}`;
    expect(statement).toEqual({
      text: 'SELECT * FROM g WHERE g.id = $1 AND ($2::uuid IS NULL OR g.w = ANY($3::text[]) OR g.v = $4) AND g.z = $5',
      values: [7, 't1', ['a', 'b'], 't1', false],
    });
    expect(inlineStatement(statement)).toBe(
      "SELECT * FROM g WHERE g.id = 7 AND ('t1'::uuid IS NULL OR g.w = ANY(ARRAY['a','b']::text[]::text[]) OR g.v = 't1') AND g.z = FALSE",
    );
  });
});

import type pg from 'pg';
import { quoteIdentifier } from '../src/database/database-urls.js';
import { inTransaction } from '../src/database/transaction.js';
import { READ_MODEL_PROJECTIONS } from './read-model.projections.js';

/** The read-model tables an auditor compares: every table a projection writes. */
export const COMPARED_TABLES: readonly string[] = READ_MODEL_PROJECTIONS.flatMap(
  (projection) => projection.tables,
);

export interface TableComparison {
  readonly table: string;
  readonly rowsLeft: number;
  readonly rowsRight: number;
  /** Rows in the left schema with no identical row in the right one, and the reverse. */
  readonly onlyLeft: number;
  readonly onlyRight: number;
}

/**
 * Compares two read-model schemas table by table, row for row (every column), as the projector
 * role, whose policy sees every tenant's rows. With `inTransaction` it runs inside the caller's
 * transaction (verify's snapshot) and only switches the role for the comparison.
 */
export async function compareReadModels(
  client: pg.ClientBase,
  left: string,
  right: string,
  options: { readonly inTransaction?: boolean } = {},
): Promise<TableComparison[]> {
  const compare = async (): Promise<TableComparison[]> => {
    const results: TableComparison[] = [];
    for (const table of COMPARED_TABLES) {
      const a = `${quoteIdentifier(left)}.${quoteIdentifier(table)}`;
      const b = `${quoteIdentifier(right)}.${quoteIdentifier(table)}`;
      const { rows } = await client.query<TableComparison>(
        `SELECT $1::text AS table,
           (SELECT count(*)::int FROM ${a}) AS "rowsLeft",
           (SELECT count(*)::int FROM ${b}) AS "rowsRight",
           (SELECT count(*)::int FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b}) d) AS "onlyLeft",
           (SELECT count(*)::int FROM (SELECT * FROM ${b} EXCEPT ALL SELECT * FROM ${a}) d) AS "onlyRight"`,
        [table],
      );
      if (rows[0]) results.push(rows[0]);
    }
    return results;
  };
  if (!options.inTransaction) {
    return inTransaction(client, compare, 'BEGIN READ ONLY; SET LOCAL ROLE tenancy_projector');
  }
  await client.query('SET LOCAL ROLE tenancy_projector');
  try {
    return await compare();
  } finally {
    await client.query('RESET ROLE');
  }
}

export function identical(comparisons: readonly TableComparison[]): boolean {
  return comparisons.every((comparison) => comparison.onlyLeft === 0 && comparison.onlyRight === 0);
}

import type pg from 'pg';
import { quoteIdentifier } from '../src/infrastructure/database/database-urls.js';

/** The read-model tables an auditor compares; checkpoints and failures are bookkeeping. */
export const COMPARED_TABLES = ['tenants', 'workspaces', 'audit_log'] as const;

export interface TableComparison {
  readonly table: string;
  readonly rowsLeft: number;
  readonly rowsRight: number;
  /** Rows in the left schema with no identical row in the right one, and the reverse. */
  readonly onlyLeft: number;
  readonly onlyRight: number;
}

/**
 * Compares two read-model schemas table by table, row for row (every column). Runs as the
 * projector role, whose policy sees every tenant's rows.
 */
export async function compareReadModels(
  client: pg.ClientBase,
  left: string,
  right: string,
): Promise<TableComparison[]> {
  await client.query('BEGIN READ ONLY; SET LOCAL ROLE tenancy_projector');
  try {
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
  } finally {
    await client.query('COMMIT');
  }
}

export function identical(comparisons: readonly TableComparison[]): boolean {
  return comparisons.every((comparison) => comparison.onlyLeft === 0 && comparison.onlyRight === 0);
}

import type pg from 'pg';
import { quoteIdentifier } from '../src/database/database-urls.js';
import { inTransaction, withCleanup } from '../src/database/transaction.js';
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
 * Compares two read-model schemas table by table, row for row (every column), in one read-only
 * transaction, as the projector role, whose policy sees every tenant's rows. For two schemas one
 * snapshot can see whole (the tests' rebuilt copies); verify compares across two connections
 * (compareReadModelsAcross, below), and this one query is the reference its counts are checked against.
 */
export async function compareReadModels(
  client: pg.ClientBase,
  left: string,
  right: string,
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
  return inTransaction(client, compare, 'BEGIN READ ONLY; SET LOCAL ROLE tenancy_projector');
}

export function identical(comparisons: readonly TableComparison[]): boolean {
  return comparisons.every((comparison) => comparison.onlyLeft === 0 && comparison.onlyRight === 0);
}

/** One side of a comparison across connections: a schema, read on its own connection. */
export interface ComparedSide {
  readonly client: pg.ClientBase;
  readonly schema: string;
}

/** Row digests fetched per round trip while two sides are merged. */
const DIGESTS_PER_FETCH = 20_000;

/**
 * Compares two read-model schemas row for row (every column) as compareReadModels does, but each
 * side as its own connection sees it: the left one inside the caller's transaction (verify's
 * snapshot of the live read models, which cannot see rows committed after it began), the right one
 * in a read-only transaction of its own. Each row is reduced to a digest of its binary form (the
 * first 128 bits of the SHA-256 of record_send: cheaper than the row's text, and the same for the
 * same values whatever the session's time zone); both sides stream their digests in the same order
 * through a cursor, and the merge counts what only one side holds, duplicates included (as EXCEPT
 * ALL does), holding one page of each at a time. Reads as the projector role, whose policy sees
 * every tenant's rows.
 */
export async function compareReadModelsAcross(
  left: ComparedSide,
  right: ComparedSide,
): Promise<TableComparison[]> {
  await left.client.query('SET LOCAL ROLE tenancy_projector');
  return withCleanup(
    () =>
      inTransaction(
        right.client,
        async () => {
          const results: TableComparison[] = [];
          for (const table of COMPARED_TABLES) results.push(await compareTableAcross(left, right, table));
          return results;
        },
        'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL ROLE tenancy_projector; SET LOCAL statement_timeout = 0',
      ),
    () => left.client.query('RESET ROLE'),
  );
}

/** A side's digests, in ascending order, one fetched page at a time. */
class DigestStream {
  private page: string[] = [];
  private index = 0;
  private ended = false;

  constructor(
    private readonly side: ComparedSide,
    private readonly cursor: string,
  ) {}

  /** The digests left in the page in hand, fetching the next page when it is used up; empty at the end. */
  async refill(): Promise<void> {
    if (this.index < this.page.length || this.ended) return;
    const { rows } = await this.side.client.query<{ digest: string }>(
      `FETCH FORWARD ${DIGESTS_PER_FETCH} FROM ${this.cursor}`,
    );
    this.page = rows.map((row) => row.digest);
    this.index = 0;
    this.ended = this.page.length < DIGESTS_PER_FETCH;
  }

  /** The next digest, undefined when the page in hand is used up (refill, then look again). */
  head(): string | undefined {
    return this.page[this.index];
  }

  take(): void {
    this.index++;
  }

  get done(): boolean {
    return this.ended && this.index >= this.page.length;
  }
}

async function compareTableAcross(
  left: ComparedSide,
  right: ComparedSide,
  table: string,
): Promise<TableComparison> {
  const cursor = quoteIdentifier(`compared_${table}`);
  // bytea sorts byte by byte, and so does its lower-case hex here.
  const open = (side: ComparedSide) =>
    side.client.query(
      `DECLARE ${cursor} NO SCROLL CURSOR FOR
       SELECT encode(digest, 'hex') AS digest FROM (
         SELECT substring(sha256(record_send(t)) FROM 1 FOR 16) AS digest
         FROM ${quoteIdentifier(side.schema)}.${quoteIdentifier(table)} t) rows
       ORDER BY rows.digest`,
    );
  await Promise.all([open(left), open(right)]);
  const a = new DigestStream(left, cursor);
  const b = new DigestStream(right, cursor);
  const counts = { table, rowsLeft: 0, rowsRight: 0, onlyLeft: 0, onlyRight: 0 };
  for (;;) {
    await Promise.all([a.refill(), b.refill()]);
    if (a.done && b.done) break;
    // Through both pages in hand, until one is used up (and not at the end of its side).
    for (;;) {
      const x = a.head();
      const y = b.head();
      if ((x === undefined && !a.done) || (y === undefined && !b.done)) break;
      if (x === undefined && y === undefined) break;
      if (y === undefined || (x !== undefined && x < y)) {
        a.take();
        counts.rowsLeft++;
        counts.onlyLeft++;
      } else if (x === undefined || y < x) {
        b.take();
        counts.rowsRight++;
        counts.onlyRight++;
      } else {
        a.take();
        b.take();
        counts.rowsLeft++;
        counts.rowsRight++;
      }
    }
  }
  await Promise.all([left.client.query(`CLOSE ${cursor}`), right.client.query(`CLOSE ${cursor}`)]);
  return counts;
}

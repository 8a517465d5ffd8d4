import type pg from 'pg';
import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import { quoteIdentifier } from '../src/database/database-urls.js';
import type { Projection, SetBasedProjection, StagingRow } from './projection.js';
import { inlineStatement, type SqlValue } from '../src/database/sql-statement.js';

/**
 * Points the open transaction at a read-model schema, as the projector role: the projections'
 * unqualified table names then resolve to that schema, and row-level security applies.
 */
export function enterReadModelSchemaSql(schema: string): string {
  // Read models are derived: a crash may lose the last few commits of a projector, but rows and
  // checkpoint commit together, so it resumes from a checkpoint that matches its rows. Not waiting
  // for each of these commits to reach the disk leaves the flushes to the appends that need them.
  return `SET LOCAL ROLE tenancy_projector; SET LOCAL search_path TO ${quoteIdentifier(schema)}, public; SET LOCAL synchronous_commit TO off`;
}

export async function enterReadModelSchema(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query(enterReadModelSchemaSql(schema));
}

/**
 * The statements applying a batch of events, as one text for the simple-query protocol: the
 * set-based form where the projection has one (staging rows, then a handful of statements), the
 * per-event statements otherwise.
 */
export function projectionSql(projection: Projection, events: readonly RecordedEvent[]): string {
  const setBased = projection.setBased;
  if (!setBased) return perEventProjectionSql(projection, events);
  const rows = setBased.stage(events);
  if (rows.length === 0) return '';
  return setBased.applySql(stagedValuesSql(setBased, rows));
}

/** The per-event statements of a batch: the reference the set-based form must agree with. */
export function perEventProjectionSql(projection: Projection, events: readonly RecordedEvent[]): string {
  return events
    .flatMap((event) => projection.project(event))
    .map(inlineStatement)
    .join(';\n');
}

/** The staged rows as a query of inline values, typed as the projection stages them. */
function stagedValuesSql(setBased: SetBasedProjection, rows: readonly StagingRow[]): string {
  const columns = setBased.stagingColumns;
  const values: SqlValue[] = [];
  const tuples = rows.map((row, index) => {
    values.push(...row);
    return `(${row.map((_, column) => `$${index * columns.length + column + 1}`).join(', ')})`;
  });
  return inlineStatement({
    text: `SELECT ${columns.map(([name, type]) => `v.${name}::${type} AS ${name}`).join(', ')}
      FROM (VALUES ${tuples.join(', ')}) AS v (${columns.map(([name]) => name).join(', ')})`,
    values,
  });
}

/** Applies a batch of events to the schema the transaction points at, in one round trip. */
export async function applyProjection(
  client: pg.ClientBase,
  projection: Projection,
  events: readonly RecordedEvent[],
): Promise<void> {
  const text = projectionSql(projection, events);
  if (text.length > 0) await client.query(text);
}

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
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
  return segmentsOf(setBased, events)
    .map((segment) => {
      if (segment.alone) return perEventProjectionSql(projection, segment.events);
      const rows = setBased.stage(segment.events);
      return rows.length === 0 ? '' : setBased.applySql(stagedValuesSql(setBased, rows));
    })
    .filter((text) => text.length > 0)
    .join(';\n');
}

/** A run of a batch: events applied as sets, or one event its projection applies alone. */
export interface BatchSegment {
  readonly alone: boolean;
  readonly events: readonly RecordedEvent[];
}

/** The batch cut around the events the set-based form applies alone (SetBasedProjection.appliesAlone). */
export function segmentsOf(setBased: SetBasedProjection, events: readonly RecordedEvent[]): BatchSegment[] {
  if (setBased.appliesAlone === undefined) return [{ alone: false, events }];
  const segments: BatchSegment[] = [];
  let run: RecordedEvent[] = [];
  for (const event of events) {
    if (!setBased.appliesAlone(event)) {
      run.push(event);
      continue;
    }
    if (run.length > 0) segments.push({ alone: false, events: run });
    segments.push({ alone: true, events: [event] });
    run = [];
  }
  if (run.length > 0) segments.push({ alone: false, events: run });
  return segments;
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

/**
 * Stages a batch by COPY into a temporary table of the projection's staging columns (created once
 * per connection, emptied at commit) and returns the table's name: the bulk-load form of the
 * inline values, for batches of tens of thousands of events.
 */
export async function copyStagedRows(
  client: pg.ClientBase,
  projection: Projection,
  events: readonly RecordedEvent[],
): Promise<string> {
  const setBased = projection.setBased;
  if (!setBased) throw new Error(`projection ${projection.name} has no set-based form to stage`);
  const table = `pg_temp.${quoteIdentifier(`staged_${projection.name.replace(/\W/g, '_')}`)}`;
  const columns = setBased.stagingColumns;
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS ${table.slice('pg_temp.'.length)} (${columns
      .map(([name, type]) => `${name} ${type}`)
      .join(', ')}) ON COMMIT DELETE ROWS; TRUNCATE ${table}`,
  );
  const text = setBased
    .stage(events)
    .map((row) => row.map(copyField).join('\t'))
    .join('\n');
  if (text.length > 0) {
    await pipeline(
      Readable.from([`${text}\n`]),
      client.query(copyFrom(`COPY ${table} (${columns.map(([name]) => name).join(', ')}) FROM STDIN`)),
    );
  }
  // The planner's estimates for the statement that reads the staged rows.
  await client.query(`ANALYZE ${table}`);
  return table;
}

/** A value in COPY's text format. */
function copyField(value: SqlValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'string') return escapeCopyText(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return escapeCopyText(`{${value.map((item) => `"${item.replace(/(["\\])/g, '\\$1')}"`).join(',')}}`);
}

function escapeCopyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (character) =>
        character === '\\' ? '\\\\' : character === '\t' ? '\\t' : character === '\n' ? '\\n' : '\\r',
      )
    : value;
}

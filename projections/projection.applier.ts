import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import { quoteIdentifier } from '../src/database/database-urls.js';
import type { Projection, SetBasedProjection, StagingRow } from './projection.js';
import {
  inlineStatement,
  quoteArrayElement,
  textArrayLiteral,
  type SqlValue,
} from '../src/database/sql-statement.js';
import { copyBinaryBlocks } from './copy-binary.js';
import { copyTextBlocks } from './copy-text.js';

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
 * A projection's set-based statement, prepared once per connection (PREPARE, over one array
 * parameter per staging column) and run for each batch by EXECUTE: PostgreSQL then plans the large
 * statement once per connection instead of once per batch, which made a live batch of one event
 * cost several times its per-event form. The name is the projection's; the statement resolves its
 * tables through the search path in force when it runs (PostgreSQL analyses it again if that changes).
 */
export function preparedStatementName(projection: Projection): string {
  return `project_${projection.name.replace(/\W/g, '_')}`;
}

/**
 * Up to this many staged rows a batch runs on the prepared generic plan (measured on a loaded
 * 2-core machine: 0.9 ms for 1 event against 2.6 ms planned for the batch, 7.6 ms against 8.2 ms
 * for 50; at 150 the plan made for the batch wins, 28 ms against 34 ms).
 */
const GENERIC_PLAN_MAX_ROWS = 64;

/** The PREPARE of the projection's set-based statement; empty for a projection without one. */
export function prepareProjectionSql(projection: Projection): string {
  const setBased = projection.setBased;
  if (!setBased) return '';
  const columns = setBased.stagingColumns;
  const staged = `SELECT ${columns
    .map(([name, type]) => (isArrayType(type) ? `v.${name}::${type} AS ${name}` : `v.${name}`))
    .join(', ')}
      FROM unnest(${columns.map((_, index) => `$${index + 1}`).join(', ')}) AS v (${columns
        .map(([name]) => name)
        .join(', ')})`;
  return `PREPARE ${preparedStatementName(projection)} (${columns
    .map(([, type]) => parameterType(type))
    .join(', ')}) AS ${setBased.applySql(staged)}`;
}

/** How a batch is applied: the set-based statement, or the per-event statements (the reference). */
export type BatchForm = 'set-based' | 'per-event';

/**
 * The cheaper form for a batch. A batch of one event (the usual live batch at a steady rate) costs
 * less in its own statement, which does only what that event needs, than in the set-based one,
 * which runs every step for whatever a batch may hold: a WorkspaceCreated took 0.52 ms against
 * 0.82 ms a batch (server CPU 0.37 against 0.65 ms). From two events on the two cost the same, and
 * the set-based form wins as batches grow.
 */
export function batchFormFor(projection: Projection, events: readonly RecordedEvent[]): BatchForm {
  return projection.setBased && events.length > 1 ? 'set-based' : 'per-event';
}

/**
 * The statements applying a batch of events, as one text for the simple-query protocol, in the
 * given form (by default the cheaper one): an EXECUTE of the prepared set-based statement (see
 * prepareProjectionSql, which must have run on the connection) with the staged columns as array
 * literals, or the per-event statements (always for a projection without a set-based form).
 */
export function executeProjectionSql(
  projection: Projection,
  events: readonly RecordedEvent[],
  form: BatchForm = batchFormFor(projection, events),
): string {
  const setBased = projection.setBased;
  if (!setBased || form === 'per-event') return perEventProjectionSql(projection, events);
  return segmentsOf(setBased, events)
    .map((segment) =>
      segment.alone
        ? perEventProjectionSql(projection, segment.events)
        : executeStagedSql(projection, setBased, segment.events),
    )
    .filter((text) => text.length > 0)
    .join(';\n');
}

/** The EXECUTE of the prepared set-based statement for a run of events it applies as sets. */
function executeStagedSql(
  projection: Projection,
  setBased: SetBasedProjection,
  events: readonly RecordedEvent[],
): string {
  const rows = setBased.stage(events);
  if (rows.length === 0) return '';
  const columns = setBased.stagingColumns;
  const parameters = columns.map(
    ([, type], column) => `${arrayLiteral(rows.map((row) => row[column] ?? null))}::${parameterType(type)}`,
  );
  // A small batch runs on the generic plan, made once per connection. Its estimates know nothing
  // of the batch's size, so it joins the staged rows with each other by nested loops: cheap for a
  // few dozen rows, quadratic beyond; a larger batch is planned for its own rows.
  const plan = rows.length <= GENERIC_PLAN_MAX_ROWS ? 'force_generic_plan' : 'force_custom_plan';
  return `SET LOCAL plan_cache_mode = ${plan}; EXECUTE ${preparedStatementName(projection)} (${parameters.join(', ')})`;
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

/** Connections on which each projection's statement is prepared already. */
const prepared = new WeakMap<pg.ClientBase, Set<string>>();

/**
 * Applies a batch of events to the schema the open transaction points at, preparing the
 * projection's statement on this connection first if needed.
 */
export async function applyProjection(
  client: pg.ClientBase,
  projection: Projection,
  events: readonly RecordedEvent[],
  form: BatchForm = batchFormFor(projection, events),
): Promise<void> {
  const names = prepared.get(client) ?? new Set<string>();
  prepared.set(client, names);
  if (projection.setBased && !names.has(projection.name)) {
    // Not undone by a rollback: a prepared statement belongs to the session, not the transaction.
    await client.query(prepareProjectionSql(projection));
    names.add(projection.name);
  }
  const text = executeProjectionSql(projection, events, form);
  if (text.length > 0) await client.query(text);
}

function isArrayType(type: string): boolean {
  return type.endsWith('[]');
}

/** An array column is passed as text[] (one literal per row; unnest would flatten an array of arrays). */
function parameterType(type: string): string {
  return isArrayType(type) ? 'text[]' : `${type}[]`;
}

/** One column of staged rows as an SQL literal of PostgreSQL's array text format. */
function arrayLiteral(values: readonly SqlValue[]): string {
  return inlineStatement({
    text: '$1',
    values: [`{${values.map(arrayElement).join(',')}}`],
  });
}

function arrayElement(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? value : textArrayLiteral(value);
  return quoteArrayElement(text);
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
  await copyRows(
    client,
    table,
    columns.map(([name]) => name),
    setBased.stage(events),
  );
  // The planner's estimates for the statement that reads the staged rows: row counts and how many
  // tenants and workspaces they name, for which a small sample does.
  await client.query(`SET LOCAL default_statistics_target = 10; ANALYZE ${table}`);
  return table;
}

/**
 * The bulk-load form of a projection whose staged rows are its table's rows (`bulkTable`): COPY
 * straight into the table. Only for a rebuild, where each batch is new to the table (a batch and
 * its checkpoint commit together, so none is ever applied twice).
 */
export async function copyIntoTable(
  client: pg.ClientBase,
  projection: Projection,
  events: readonly RecordedEvent[],
): Promise<void> {
  const setBased = projection.setBased;
  if (!setBased?.bulkTable) throw new Error(`projection ${projection.name} has no table to bulk load into`);
  await copyRows(
    client,
    quoteIdentifier(setBased.bulkTable),
    setBased.stagingColumns.map(([name]) => name),
    setBased.stage(events),
    { binary: true },
  );
}

/**
 * COPY of rows (values in the order of `columns`) into a table, in COPY's text format; with
 * `binary`, in its binary format when every value allows it (copy-binary.ts), which spares the
 * server parsing them: for the large batches of a bulk load, where it costs one more round trip
 * to learn the columns' types.
 */
export async function copyRows(
  client: pg.ClientBase,
  table: string,
  columns: readonly string[],
  rows: readonly StagingRow[],
  options: { readonly binary?: boolean } = {},
): Promise<void> {
  if (rows.length === 0) return;
  const types = options.binary ? await columnTypes(client, table, columns) : undefined;
  const binary = types && copyBinaryBlocks(rows, types);
  await pipeline(
    Readable.from(binary ?? copyTextBlocks(rows)),
    client.query(
      copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN${binary ? ' (FORMAT binary)' : ''}`),
    ),
  );
}

/** The type OIDs of a table's columns, in the order given; undefined if one is not found. */
async function columnTypes(
  client: pg.ClientBase,
  table: string,
  columns: readonly string[],
): Promise<number[] | undefined> {
  const { rows } = await client.query<{ type: number }>(
    `SELECT a.atttypid::int AS type
     FROM unnest($2::text[]) WITH ORDINALITY AS c (name, n)
     JOIN pg_attribute a ON a.attrelid = $1::regclass AND a.attname = c.name AND NOT a.attisdropped
     ORDER BY c.n`,
    [table, columns],
  );
  return rows.length === columns.length ? rows.map((row) => row.type) : undefined;
}

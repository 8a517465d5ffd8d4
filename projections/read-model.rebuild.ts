import pg from 'pg';
import type {
  EventStore,
  Position,
  ReadAllPage,
  RecordedEvent,
} from '../src/event-store/event-store.port.js';
import { quoteIdentifier } from '../src/database/database-urls.js';
import { inTransaction } from '../src/database/transaction.js';
import {
  copyIntoTable,
  copyStagedRows,
  enterReadModelSchemaSql,
  perEventProjectionSql,
  segmentsOf,
} from './projection.applier.js';
import { loadReadModelCheckpoint, moveReadModelCheckpoint } from './read-model.checkpoints.js';
import type { Projection } from './projection.js';
import { READ_MODEL_PROJECTIONS } from './read-model.projections.js';

export interface RebuildProgress {
  readonly projection: string;
  readonly events: number;
  readonly position: Position | undefined;
}

export interface RebuildOptions {
  readonly store: EventStore;
  readonly client: pg.ClientBase;
  /** The schema to build; created here, so it must not exist yet. */
  readonly schema: string;
  readonly projections?: readonly Projection[];
  /** Events per log read. */
  readonly batchSize?: number;
  /** Events per transaction (one COPY and one set-based statement per projection). */
  readonly chunkSize?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Stop at this position (inclusive) instead of the log's current end. */
  readonly until?: Position;
}

const DEFAULT_PAGE = 10_000;
const DEFAULT_CHUNK = 50_000;
/** Where a bulk load keeps the indexes and constraints it builds at the end; kept across an interruption. */
const DEFERRED_TABLE = 'rebuild_deferred_ddl';

/**
 * Replays the log from position zero into a fresh read-model schema: the same projections, the
 * same checkpoints as the live read models, so the result can be compared with them (verify) or
 * swapped in for them (replay).
 *
 * It loads the way restore tools do: the tables take no WAL, carry only their primary keys and
 * leave row-level security off while they fill (startRebuild), each chunk of the log is staged by COPY and applied by the
 * projections' set-based statements, and the other indexes and the foreign keys are built and
 * checked once at the end (finishRebuild). Each chunk commits with its checkpoint, so an
 * interrupted rebuild resumes (resumeRebuild), and the deferred work is remembered in the schema.
 */
export async function rebuildReadModels(options: RebuildOptions): Promise<Map<string, number>> {
  await startRebuild(options.client, options.schema, options.projections);
  const applied = await resumeRebuild(options);
  await finishRebuild(options.client, options.schema);
  return applied;
}

/**
 * Creates the schema for a bulk load: the tables as rm_create_schema makes them, minus their
 * secondary indexes and foreign keys (recorded to be rebuilt by finishRebuild), and unlogged.
 */
export async function startRebuild(
  client: pg.ClientBase,
  schema: string,
  projections: readonly Projection[] = READ_MODEL_PROJECTIONS,
): Promise<void> {
  const quoted = quoteIdentifier(schema);
  const tables = [...projections.flatMap((projection) => projection.tables), 'checkpoints'];
  await inTransaction(client, async () => {
    await client.query('SELECT rm_create_schema($1)', [schema]);
    await client.query(
      `CREATE TABLE ${quoted}.${DEFERRED_TABLE} (step serial PRIMARY KEY, statement text NOT NULL)`,
    );
    // Recorded in the order they must run: tables logged again, then indexes, then foreign keys
    // (which need the indexes to check quickly), then row-level security back on. It is off while
    // the tables load (COPY refuses a table under it); nothing reads them before the end.
    await client.query(
      `INSERT INTO ${quoted}.${DEFERRED_TABLE} (statement)
       SELECT format('ALTER TABLE %I.%I SET LOGGED', $1::text, t) FROM unnest($2::text[]) AS t
       UNION ALL
       (SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = ANY ($2) AND NOT i.indisprimary AND NOT i.indisunique
        ORDER BY c.relname, i.indexrelid)
       UNION ALL
       (SELECT format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', $1::text, c.relname, k.conname, pg_get_constraintdef(k.oid))
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = ANY ($2) AND k.contype = 'f'
        ORDER BY c.relname, k.conname)
       UNION ALL
       (SELECT format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', $1::text, c.relname)
          || CASE WHEN c.relforcerowsecurity THEN format('; ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', $1::text, c.relname) ELSE '' END
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = ANY ($2) AND c.relrowsecurity
        ORDER BY c.relname)`,
      [schema, tables],
    );
    const { rows } = await client.query<{ drop: string }>(
      `SELECT format('ALTER TABLE %I.%I DROP CONSTRAINT %I', $1::text, c.relname, k.conname) AS drop
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = ANY ($2) AND k.contype = 'f'
       UNION ALL
       SELECT format('DROP INDEX %I.%I', $1::text, ic.relname) FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = ANY ($2) AND NOT i.indisprimary AND NOT i.indisunique
       UNION ALL
       SELECT format('ALTER TABLE %I.%I SET UNLOGGED', $1::text, t) FROM unnest($2::text[]) AS t
       UNION ALL
       SELECT format('ALTER TABLE %I.%I DISABLE ROW LEVEL SECURITY', $1::text, c.relname)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = ANY ($2) AND c.relrowsecurity`,
      [schema, tables],
    );
    for (const { drop } of rows) await client.query(drop);
  });
}

/** Whether startRebuild's deferred work is still to be done in the schema: it is being bulk loaded. */
async function deferredWorkRemains(client: pg.ClientBase, schema: string): Promise<boolean> {
  const { rowCount } = await client.query(
    'SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2',
    [schema, DEFERRED_TABLE],
  );
  return rowCount === 1;
}

/** Builds what startRebuild deferred, each step in a transaction of its own; nothing if nothing is left. */
export async function finishRebuild(client: pg.ClientBase, schema: string): Promise<void> {
  const deferred = `${quoteIdentifier(schema)}.${DEFERRED_TABLE}`;
  if (!(await deferredWorkRemains(client, schema))) return;
  const { rows } = await client.query<{ step: number; statement: string }>(
    `SELECT step, statement FROM ${deferred} ORDER BY step`,
  );
  for (const { step, statement } of rows) {
    await inTransaction(client, async () => {
      await client.query("SET LOCAL statement_timeout = 0; SET LOCAL maintenance_work_mem = '256MB'");
      await client.query(statement);
      await client.query(`DELETE FROM ${deferred} WHERE step = $1`, [step]);
    });
  }
  await client.query(`DROP TABLE ${deferred}`);
  await client.query(`ANALYZE ${quoteIdentifier(schema)}.checkpoints`);
}

/** Continues a rebuild into an existing schema from each projection's checkpoint there. */
export async function resumeRebuild(options: RebuildOptions): Promise<Map<string, number>> {
  const { store } = options;
  const projections = options.projections ?? READ_MODEL_PROJECTIONS;
  const until = options.until ?? (await store.headPosition());
  const applied = new Map<string, number>(projections.map((projection) => [projection.name, 0]));
  // One read of the log serves every projection with the same filter.
  const groups = new Map<string, Projection[]>();
  for (const projection of projections) {
    const key = JSON.stringify(projection.filter);
    groups.set(key, [...(groups.get(key) ?? []), projection]);
  }
  for (const group of groups.values()) {
    await rebuildGroup({ ...options, until }, group, applied);
  }
  return applied;
}

async function rebuildGroup(
  options: RebuildOptions,
  projections: readonly Projection[],
  applied: Map<string, number>,
): Promise<void> {
  const { store, client, schema, until } = options;
  if (until === undefined) return;
  // Between startRebuild and finishRebuild the tables take rows by COPY; after, as the live ones do.
  const bulkLoading = await deferredWorkRemains(client, schema);
  const checkpoints = new Map<string, Position | undefined>();
  for (const projection of projections) {
    checkpoints.set(
      projection.name,
      await inSchema(client, schema, () => loadReadModelCheckpoint(client, projection.name)),
    );
  }
  const starts = [...checkpoints.values()];
  const after = starts.some((position) => position === undefined)
    ? undefined
    : starts.reduce((a, b) => (store.comparePositions(a as Position, b as Position) <= 0 ? a : b));
  const filter = projections[0]?.filter;
  const pageSize = options.batchSize ?? DEFAULT_PAGE;
  const chunkSize = Math.max(pageSize, options.chunkSize ?? DEFAULT_CHUNK);
  const read = (from: Position | undefined): Promise<ReadAllPage> =>
    store.readAll({ ...(from === undefined ? {} : { after: from }), maxCount: pageSize, filter });
  if (after !== undefined && store.comparePositions(after, until) >= 0) return;

  /** Reads the log up to `until` in chunks, each one read while the one before it is applied. */
  async function* chunksOfLog(from: Position | undefined): AsyncGenerator<RecordedEvent[]> {
    let chunk: RecordedEvent[] = [];
    for (let position = from; ;) {
      const page: ReadAllPage = await read(position);
      const kept = page.events.filter(
        (event) => store.comparePositions(event.position, until as Position) <= 0,
      );
      const done = page.isEnd || kept.length < page.events.length || page.nextPosition === undefined;
      position = page.nextPosition ?? position;
      chunk.push(...kept);
      if (chunk.length >= chunkSize || done) {
        if (chunk.length > 0) yield chunk;
        chunk = [];
      }
      if (done) return;
    }
  }

  let events = 0;
  let chunks = 0;
  const reader = chunksOfLog(after);
  let next = reader.next();
  while (true) {
    const result = await next;
    if (result.done) break;
    const batch = result.value;
    // The next chunk is read (on the store's own connection) while this one is applied.
    next = reader.next();
    try {
      await applyChunk(client, schema, projections, checkpoints, batch, store, applied, bulkLoading);
    } catch (error) {
      await next.catch(() => undefined);
      throw error;
    }
    events += batch.length;
    // The tables grow from nothing while they load: planner statistics taken as they double keep
    // the next chunk's lookups on the primary keys instead of scans planned for empty tables. A
    // table bulk loaded by COPY is only written.
    if (++chunks === 1 || (chunks & (chunks - 1)) === 0) {
      const queried = projections.filter((projection) => !(bulkLoading && projection.setBased?.bulkTable));
      for (const table of queried.flatMap((projection) => projection.tables)) {
        await client.query(`ANALYZE ${quoteIdentifier(schema)}.${quoteIdentifier(table)}`);
      }
    }
    options.onProgress?.({
      projection: projections.map((projection) => projection.name).join(', '),
      events,
      position: batch[batch.length - 1]?.position,
    });
  }
}

/** One transaction: each projection's share of the chunk staged by COPY and applied as sets, with its checkpoint. */
async function applyChunk(
  client: pg.ClientBase,
  schema: string,
  projections: readonly Projection[],
  checkpoints: Map<string, Position | undefined>,
  chunk: readonly RecordedEvent[],
  store: EventStore,
  applied: Map<string, number>,
  bulkLoading: boolean,
): Promise<void> {
  const moved = new Map<string, Position>();
  await inSchema(client, schema, async () => {
    // A chunk's joins are hashed in memory instead of spilling to temporary files.
    await client.query("SET LOCAL statement_timeout = 0; SET LOCAL work_mem = '256MB'");
    for (const projection of projections) {
      const stored = checkpoints.get(projection.name);
      const events =
        stored === undefined
          ? chunk
          : chunk.filter((event) => store.comparePositions(event.position, stored) > 0);
      const last = events[events.length - 1];
      if (!last) continue;
      if (bulkLoading && projection.setBased?.bulkTable) {
        await copyIntoTable(client, projection, events);
      } else if (projection.setBased) {
        // A chunk may hold events its projection applies alone: staged runs between them.
        for (const segment of segmentsOf(projection.setBased, events)) {
          if (segment.alone) {
            await client.query(perEventProjectionSql(projection, segment.events));
            continue;
          }
          const staged = await copyStagedRows(client, projection, segment.events);
          await client.query(projection.setBased.applySql(`SELECT * FROM ${staged}`));
        }
      } else {
        await client.query(perEventProjectionSql(projection, events));
      }
      if (!(await moveReadModelCheckpoint(client, projection.name, stored, last.position))) {
        throw new Error(`the checkpoint of ${projection.name} in ${schema} moved during the rebuild`);
      }
      moved.set(projection.name, last.position);
      applied.set(projection.name, (applied.get(projection.name) ?? 0) + events.length);
    }
  });
  for (const [name, position] of moved) checkpoints.set(name, position);
}

/** A transaction whose unqualified table names resolve to the schema being built, as the projector. */
function inSchema<T>(client: pg.ClientBase, schema: string, work: () => Promise<T>): Promise<T> {
  return inTransaction(client, work, `BEGIN; ${enterReadModelSchemaSql(schema)}`);
}

/** Drops a read-model schema built by a rebuild (never the live one by accident: the name is checked). */
export async function dropReadModelSchema(client: pg.ClientBase, schema: string): Promise<void> {
  if (schema === 'read_model') throw new Error('refusing to drop the live read models');
  await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
}

import pg from 'pg';
import type {
  EventStore,
  Position,
  ReadAllPage,
  RecordedEvent,
} from '../src/event-store/event-store.port.js';
import { quoteIdentifier } from '../src/database/database-urls.js';
import { inTransaction, withPooledClient } from '../src/database/transaction.js';
import { exemptFromLogHorizon } from '../src/database/log-horizon-exemptions.js';
import {
  copyIntoTable,
  copyRows,
  copyStagedRows,
  enterReadModelSchemaSql,
  perEventProjectionSql,
  segmentsOf,
} from './projection.applier.js';
import { loadReadModelCheckpoint, moveReadModelCheckpoint } from './read-model.checkpoints.js';
import type { BulkLoadTarget, Projection } from './projection.js';
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
  /**
   * Events per transaction (one COPY and one set-based statement per projection); the first chunk
   * is one page (`batchSize`), each next one twice the last, up to this.
   */
  readonly chunkSize?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Stop at this position (inclusive) instead of the log's current end. */
  readonly until?: Position;
  /**
   * Where to take more connections, for work that can run side by side: with it, each projection
   * loads on a connection of its own (`client` and one more per other projection) and the deferred
   * indexes and checks run on two connections at once. Without it, the whole rebuild runs on
   * `client`, in turn.
   */
  readonly pool?: pg.Pool;
  /**
   * Stops the rebuild between chunks once aborted: the chunks applied stay, with their
   * checkpoints, and resumeRebuild continues from there.
   */
  readonly signal?: AbortSignal;
}

const DEFAULT_PAGE = 10_000;
const DEFAULT_CHUNK = 50_000;
/** Chunks applied at once when projections load side by side: the slowest lane's backlog. */
const CHUNKS_IN_FLIGHT = 2;
/** Where a bulk load keeps the indexes and constraints it builds at the end; kept across an interruption. */
const DEFERRED_TABLE = 'rebuild_deferred_ddl';

/**
 * Replays the log from position zero into a fresh read-model schema: the same projections, the
 * same checkpoints as the live read models, so the result can be compared with them (verify) or
 * swapped in for them (replay).
 *
 * It loads the way restore tools do: the tables carry only their primary keys and leave
 * row-level security off while they fill (startRebuild); the events that only add rows are
 * loaded by COPY in their final form, the others staged by COPY and applied by the projections'
 * set-based statements; the other indexes and the foreign keys are built and checked once at the
 * end (finishRebuild). Each chunk commits with its checkpoint, so an interrupted rebuild resumes
 * (resumeRebuild), and the deferred work is remembered in the schema.
 *
 * The tables are logged from the start. Unlogged while loading, they cost nothing in WAL then,
 * but making them logged at the end rewrote each table and its primary key: measured on a
 * 1,000,000-event log, the finish took 6.5-7.8 s instead of 3.2-3.5 s, and the whole rebuild
 * 26.0-27.1 s instead of 22.3-22.9 s, since the load mostly waits on the process, not the server.
 */
export async function rebuildReadModels(options: RebuildOptions): Promise<Map<string, number>> {
  await startRebuild(options.client, options.schema, options.projections);
  const applied = await resumeRebuild(options);
  await finishRebuild(options.client, options.schema, options.pool);
  return applied;
}

/**
 * Creates the schema for a bulk load: the tables as rm_create_schema makes them, minus their
 * secondary indexes and foreign keys (recorded to be rebuilt by finishRebuild), and left alone by
 * autovacuum until then: a vacuum of a table still loading is wasted, and one still running at the
 * end makes each index build on its table wait for it to give way.
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
    // Recorded in the order they must run: indexes, then foreign keys (each check locks its tables
    // against index builds, so they come after), then row-level security back on (it is off while the tables load: COPY
    // refuses a table under it, and nothing reads them before the end), then autovacuum, and
    // planner statistics for the whole tables, which the service reads as soon as they are swapped in.
    await client.query(
      `INSERT INTO ${quoted}.${DEFERRED_TABLE} (statement)
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
        ORDER BY c.relname)
       UNION ALL
       SELECT format('ALTER TABLE %I.%I RESET (autovacuum_enabled)', $1::text, t) FROM unnest($2::text[]) AS t
       UNION ALL
       SELECT format('ANALYZE %I.%I', $1::text, t) FROM unnest($2::text[]) AS t`,
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
       SELECT format('ALTER TABLE %I.%I DISABLE ROW LEVEL SECURITY', $1::text, c.relname)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = ANY ($2) AND c.relrowsecurity
       UNION ALL
       SELECT format('ALTER TABLE %I.%I SET (autovacuum_enabled = false)', $1::text, t) FROM unnest($2::text[]) AS t`,
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

/** Deferred builds running at once when a pool is given: two keep both cores of a small server busy. */
const FINISH_CONNECTIONS = 2;

interface DeferredStep {
  readonly step: number;
  readonly statement: string;
  readonly size: string;
}

/**
 * Builds what startRebuild deferred, each step in a transaction of its own (so an interrupted
 * finish resumes where it stopped); nothing if nothing is left. With a pool, on two connections at
 * once (see nextStep for which step runs when).
 */
export async function finishRebuild(client: pg.ClientBase, schema: string, pool?: pg.Pool): Promise<void> {
  const deferred = `${quoteIdentifier(schema)}.${DEFERRED_TABLE}`;
  if (!(await deferredWorkRemains(client, schema))) return;
  const { rows } = await client.query<DeferredStep>(
    `SELECT d.step, d.statement, coalesce(pg_table_size(c.oid), 0) AS size
     FROM ${deferred} d
     LEFT JOIN pg_class c ON c.oid = to_regclass(coalesce(
       substring(d.statement FROM ' ON (?:ONLY )?(\\S+) USING '), substring(d.statement FROM '^ALTER TABLE (\\S+) '),
       substring(d.statement FROM '^ANALYZE (\\S+)$')))
     ORDER BY d.step`,
  );
  const runStep = async (on: pg.ClientBase, step: DeferredStep) =>
    inTransaction(on, async () => {
      // An index build or a foreign key's check runs for seconds too: exempt, as a chunk is.
      if (pool) await exemptFromLogHorizon(on, pool);
      await on.query("SET LOCAL statement_timeout = 0; SET LOCAL maintenance_work_mem = '256MB'");
      await on.query(step.statement);
      await on.query(`DELETE FROM ${deferred} WHERE step = $1`, [step.step]);
    });
  const pending = [...rows];
  const running = new Map<DeferredStep, Promise<void>>();
  await withMoreConnections(pool, FINISH_CONNECTIONS - 1, async (more) => {
    await Promise.all(
      [client, ...more].map(async (on) => {
        while (pending.length > 0) {
          const step = nextStep(pending, [...running.keys()]);
          if (!step) {
            // Everything left waits on a step still running.
            await Promise.race(running.values());
            continue;
          }
          pending.splice(pending.indexOf(step), 1);
          const done = runStep(on, step);
          running.set(step, done);
          try {
            await done;
          } finally {
            running.delete(step);
          }
        }
      }),
    );
  });
  await client.query(`DROP TABLE ${deferred}`);
}

/**
 * The step to run next, if one may start now. Each step waits for the steps before it (in the
 * order they were recorded) on any of the same tables: an index before the foreign keys that
 * check through it, row-level security, autovacuum and statistics last. Index builds of one table
 * may run side by side (their locks allow it). A step whose tables cannot be told waits for every
 * step before it, and holds back every step after it.
 *
 * Of the steps that may start, one on a table no running step works on comes first, then the
 * largest table: two tables' chains of steps then run side by side, and the finish takes about the
 * longer chain instead of the builds of every table in turn followed by the checks of each.
 */
function nextStep(
  pending: readonly DeferredStep[],
  running: readonly DeferredStep[],
): DeferredStep | undefined {
  const before = [...running, ...pending].sort((a, b) => a.step - b.step);
  const busy = new Set(running.flatMap((step) => tablesOf(step.statement) ?? []));
  const mayStart = pending.filter((step) =>
    before.every((earlier) => earlier.step >= step.step || !mustWaitFor(step, earlier)),
  );
  const untouched = (step: DeferredStep) =>
    (tablesOf(step.statement) ?? []).every((table) => !busy.has(table));
  return mayStart.sort(
    (a, b) =>
      Number(untouched(b)) - Number(untouched(a)) || Number(b.size) - Number(a.size) || a.step - b.step,
  )[0];
}

function mustWaitFor(step: DeferredStep, earlier: DeferredStep): boolean {
  const tables = tablesOf(step.statement);
  const earlierTables = tablesOf(earlier.statement);
  if (!tables || !earlierTables) return true;
  if (!tables.some((table) => earlierTables.includes(table))) return false;
  return !(INDEX_BUILD.test(step.statement) && INDEX_BUILD.test(earlier.statement));
}

const INDEX_BUILD = /^CREATE INDEX /;

/** The tables a deferred statement locks, as written in it; undefined for a statement of no known form. */
function tablesOf(statement: string): string[] | undefined {
  const index = /^CREATE INDEX \S+ ON (?:ONLY )?(\S+) USING /.exec(statement);
  if (index) return [index[1] as string];
  const foreignKey =
    /^ALTER TABLE (\S+) ADD CONSTRAINT \S+ FOREIGN KEY \([^)]*\) REFERENCES ([^\s(]+)\(/.exec(statement);
  if (foreignKey) return [foreignKey[1] as string, foreignKey[2] as string];
  const alter =
    /^ALTER TABLE (\S+) (?:ENABLE ROW LEVEL SECURITY(?:; ALTER TABLE \1 FORCE ROW LEVEL SECURITY)?|RESET \(autovacuum_enabled\))$/.exec(
      statement,
    );
  if (alter) return [alter[1] as string];
  const analyze = /^ANALYZE (\S+)$/.exec(statement);
  if (analyze) return [analyze[1] as string];
  return undefined;
}

/** `count` more connections from the pool for the work (none without a pool), released after it. */
async function withMoreConnections<T>(
  pool: pg.Pool | undefined,
  count: number,
  work: (connections: pg.ClientBase[]) => Promise<T>,
  taken: readonly pg.ClientBase[] = [],
): Promise<T> {
  if (!pool || taken.length >= count) return work([...taken]);
  return withPooledClient(pool, (connection) =>
    withMoreConnections(pool, count, work, [...taken, connection]),
  );
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
    // The first chunk is one page and each next one twice the last, up to chunkSize: nothing is
    // applied until a chunk is whole, so a small first one sets the projections to work sooner.
    let target = Math.min(pageSize, chunkSize);
    for (let position = from; ;) {
      const page: ReadAllPage = await read(position);
      const kept = eventsUpTo(store, page.events, until as Position);
      const done = page.isEnd || kept.length < page.events.length || page.nextPosition === undefined;
      position = page.nextPosition ?? position;
      chunk.push(...kept);
      if (chunk.length >= target || done) {
        if (chunk.length > 0) yield chunk;
        chunk = [];
        target = Math.min(chunkSize, target * 2);
      }
      if (done) return;
    }
  }

  // With a pool, each projection loads on a connection of its own, so that one projection's
  // statements run while another's rows are staged or copied; without, all of them on `client`,
  // in one transaction per chunk.
  const laneProjections = options.pool ? projections.map((projection) => [projection]) : [projections];
  await withMoreConnections(options.pool, laneProjections.length - 1, async (more) => {
    const lanes = laneProjections.map((share, index) => ({
      client: index === 0 ? client : (more[index - 1] as pg.ClientBase),
      projections: share,
      chunks: 0,
      done: Promise.resolve<void>(undefined),
    }));
    const applyOnLane = async (lane: (typeof lanes)[number], chunk: RecordedEvent[]): Promise<void> => {
      await applyChunk(
        lane.client,
        schema,
        lane.projections,
        checkpoints,
        chunk,
        store,
        applied,
        bulkLoading,
        options.pool,
      );
      // The tables grow from nothing while they load: planner statistics taken as they double keep
      // the next chunk's lookups on the primary keys instead of scans planned for empty tables. A
      // table bulk loaded by COPY is only written.
      if (++lane.chunks === 1 || (lane.chunks & (lane.chunks - 1)) === 0) {
        const queried = lane.projections.filter(
          (projection) => !(bulkLoading && projection.setBased?.bulkTable),
        );
        // In a transaction exempt from the log's horizon, as a chunk is: it takes up to half a second.
        await inTransaction(lane.client, async () => {
          if (options.pool) await exemptFromLogHorizon(lane.client, options.pool);
          for (const table of queried.flatMap((projection) => projection.tables)) {
            await lane.client.query(`ANALYZE ${quoteIdentifier(schema)}.${quoteIdentifier(table)}`);
          }
        });
      }
    };
    let events = 0;
    const reader = chunksOfLog(after);
    let next = reader.next();
    // Chunks being applied, oldest first: each lane applies them in log order, and the reader reads
    // ahead while the slowest lane is at most this many chunks behind it.
    const applying: Promise<void>[] = [];
    try {
      while (true) {
        const result = await next;
        if (result.done || options.signal?.aborted) break;
        const chunk = result.value;
        // The next chunk is read (on the store's own connection) while this one is applied.
        next = reader.next();
        const everywhere = Promise.all(
          lanes.map((lane) => (lane.done = lane.done.then(() => applyOnLane(lane, chunk)))),
        ).then(() => {
          events += chunk.length;
          options.onProgress?.({
            projection: projections.map((projection) => projection.name).join(', '),
            events,
            position: chunk[chunk.length - 1]?.position,
          });
        });
        // Awaited below, in order; marked handled now so that a failure is not reported twice.
        everywhere.catch(() => undefined);
        applying.push(everywhere);
        if (applying.length >= CHUNKS_IN_FLIGHT) await applying.shift();
      }
      for (let chunk = applying.shift(); chunk; chunk = applying.shift()) await chunk;
    } finally {
      // Nothing is left running on the connections before they go back to the pool.
      await Promise.allSettled([next, ...lanes.map((lane) => lane.done)]);
    }
  });
}

/**
 * One transaction: each projection's share of the chunk, with its checkpoint, exempt from the log's
 * horizon when a pool (`exemptVia`) gives a connection to declare it on. While bulk loading,
 * the events a projection's bulk form handles are copied in as final rows; the others are staged
 * by COPY and applied as sets (or by the per-event statements of a projection without sets).
 */
async function applyChunk(
  client: pg.ClientBase,
  schema: string,
  projections: readonly Projection[],
  checkpoints: Map<string, Position | undefined>,
  chunk: readonly RecordedEvent[],
  store: EventStore,
  applied: Map<string, number>,
  bulkLoading: boolean,
  exemptVia: pg.Pool | undefined,
): Promise<void> {
  const moved = new Map<string, Position>();
  await inSchema(client, schema, async () => {
    // A chunk runs for seconds; it would hold back the live readers of the log (read models, feed)
    // for as long, in steps of one chunk: up to 2.9 s from a write's 201 to its row, with a
    // 300,000-event replay beside a live service. It writes no event, so it may be exempt.
    if (exemptVia) await exemptFromLogHorizon(client, exemptVia);
    // A chunk's joins are hashed in memory instead of spilling to temporary files.
    await client.query("SET LOCAL statement_timeout = 0; SET LOCAL work_mem = '256MB'");
    for (const projection of projections) {
      const stored = checkpoints.get(projection.name);
      const events = stored === undefined ? chunk : eventsAfter(store, chunk, stored);
      const last = events[events.length - 1];
      if (!last) continue;
      if (bulkLoading && projection.setBased?.bulkTable) {
        await copyIntoTable(client, projection, events);
      } else if (bulkLoading && projection.bulkLoad) {
        const { bulkLoad } = projection;
        // Runs of events that only add rows are loaded in their final form; the others as sets.
        for (const run of runsOf(events, (event) => bulkLoad.handles(event))) {
          if (run.matching) await bulkLoad.load(run.events, bulkLoadTarget(client));
          else await applyStaged(client, projection, run.events);
        }
      } else {
        await applyStaged(client, projection, events);
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

/** A batch applied by the projection's set-based statement over rows staged by COPY, or its per-event statements. */
async function applyStaged(
  client: pg.ClientBase,
  projection: Projection,
  events: readonly RecordedEvent[],
): Promise<void> {
  if (!projection.setBased) {
    await client.query(perEventProjectionSql(projection, events));
    return;
  }
  // A chunk may hold events its projection applies alone: staged runs between them.
  for (const segment of segmentsOf(projection.setBased, events)) {
    if (segment.alone) {
      await client.query(perEventProjectionSql(projection, segment.events));
      continue;
    }
    const staged = await copyStagedRows(client, projection, segment.events);
    await client.query(projection.setBased.applySql(`SELECT * FROM ${staged}`));
  }
}

/** The events (in log order) at or before a position: all of them, without a look at each, when the last is. */
function eventsUpTo(
  store: EventStore,
  events: readonly RecordedEvent[],
  until: Position,
): readonly RecordedEvent[] {
  const last = events[events.length - 1];
  if (!last || store.comparePositions(last.position, until) <= 0) return events;
  return events.filter((event) => store.comparePositions(event.position, until) <= 0);
}

/** The events (in log order) after a position: all of them, without a look at each, when the first is. */
function eventsAfter(
  store: EventStore,
  events: readonly RecordedEvent[],
  after: Position,
): readonly RecordedEvent[] {
  const first = events[0];
  if (!first || store.comparePositions(first.position, after) > 0) return events;
  return events.filter((event) => store.comparePositions(event.position, after) > 0);
}

/** The events cut into runs, in order, of those that match and those that do not. */
function runsOf(
  events: readonly RecordedEvent[],
  matches: (event: RecordedEvent) => boolean,
): { matching: boolean; events: RecordedEvent[] }[] {
  const runs: { matching: boolean; events: RecordedEvent[] }[] = [];
  for (const event of events) {
    const matching = matches(event);
    const last = runs[runs.length - 1];
    if (last?.matching === matching) last.events.push(event);
    else runs.push({ matching, events: [event] });
  }
  return runs;
}

/** What a projection's bulk form may do in the rebuild's transaction: queries, and COPY into the schema's tables. */
function bulkLoadTarget(client: pg.ClientBase): BulkLoadTarget {
  return {
    query: async <Row extends object>(text: string, values: readonly unknown[]) =>
      (await client.query<Row>(text, [...values])).rows,
    copy: (table, columns, rows) => copyRows(client, quoteIdentifier(table), columns, rows, { binary: true }),
  };
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

import { existsSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { EventStore, Position } from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { quoteIdentifier, withDatabase } from '../../src/database/database-urls.js';
import { runMigrations } from '../../src/database/migrations.js';
import { createPool } from '../../src/database/postgres-pool.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { operatorContext, planTree, shapeFor, stored, tenantBirth, workspaceCreated } from '../lib/events.js';
import { importBuilt, PROJECT_ROOT } from '../lib/service.js';
import { round } from '../lib/stats.js';
import { collectGarbage, heapUsedMb } from '../lib/heap.js';
import { BackgroundWorkWatch } from '../lib/background-work-watch.js';
import { CpuClock, cpuUsedBetween, describeCpuUse, type CpuUse } from '../lib/cpu-time.js';
import { randomUUID } from 'node:crypto';
import type { BenchContext, Scenario, ScenarioOutcome, Size, StoreContext } from '../lib/types.js';

/**
 * THE HOOK: the read side's rebuild entry point, projections/read-model.rebuild.ts
 *
 *   export async function rebuildReadModels(options: {
 *     store: EventStore;        // the log to replay, from position zero
 *     client: pg.ClientBase;    // a connection to the database holding the read models
 *     schema: string;           // the fresh schema to build (created by the rebuild)
 *     batchSize?: number; chunkSize?: number; onProgress?: (progress) => void; until?: Position;
 *     pool?: pg.Pool;           // more connections, for work done side by side
 *     signal?: AbortSignal;     // stops between chunks (the time budget)
 *   }): Promise<Map<string, number>>;   // events applied per projection
 *
 * With startRebuild/resumeRebuild/finishRebuild exported too, the scenario calls them in turn, as
 * `tenancy replay` does, and times the finish on its own.
 *
 * It is looked up in the modules below (first match wins), or in the module named by
 * BENCH_REBUILD_MODULE (a path relative to the project root), and resolved at run time, so this file
 * compiles and the scenario reports "not run" while no module exports it. The options passed also
 * carry eventStore/pool/databaseUrl for an entry point that takes those names instead.
 */
export const REBUILD_FUNCTION = 'rebuildReadModels';
export const RESUME_FUNCTION = 'resumeRebuild';
/**
 * The compiled module, which the run builds before any scenario: what `tenancy replay` and the
 * service run. Through this process's TypeScript loader the same replay took about a second more
 * of CPU (BENCHMARKS.md, the rebuild's observations).
 */
const CANDIDATE_MODULES = ['dist/projections/read-model.rebuild.js'];

export interface RebuildOptions {
  readonly store: EventStore;
  readonly client: pg.ClientBase;
  readonly schema: string;
  readonly onProgress?: (progress: { projection: string; events: number }) => void;
  readonly signal?: AbortSignal;
  readonly chunkSize?: number;
  readonly batchSize?: number;
  // The same things under other names, for an entry point that takes them so.
  readonly eventStore: EventStore;
  readonly pool: pg.Pool;
  readonly databaseUrl: string;
}
type RebuildFunction = (options: RebuildOptions & { until?: Position }) => Promise<unknown>;

interface Hook {
  fn?: RebuildFunction;
  /** startRebuild(client, schema) and finishRebuild(client, schema), when exported: the bulk load's two ends. */
  start?: (client: pg.ClientBase, schema: string) => Promise<void>;
  finish?: (client: pg.ClientBase, schema: string, pool?: pg.Pool) => Promise<void>;
  /** resumeRebuild (same options), when exported: lets the replay go in slices within a time budget. */
  resume?: RebuildFunction;
  where: string;
  tried: string[];
}

async function resolveRebuild(): Promise<Hook> {
  const override = process.env.BENCH_REBUILD_MODULE;
  const candidates = override ? [override] : CANDIDATE_MODULES;
  const tried: string[] = [];
  for (const relative of candidates) {
    const file = path.resolve(PROJECT_ROOT, relative);
    tried.push(relative);
    if (!existsSync(file)) continue;
    // Resolved at run time on purpose: the module may not exist yet when this file is compiled.
    const loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const fn = loaded[REBUILD_FUNCTION];
    const resume = loaded[RESUME_FUNCTION];
    if (typeof fn === 'function') {
      const start = loaded.startRebuild;
      const finish = loaded.finishRebuild;
      return {
        fn: fn as RebuildFunction,
        ...(typeof start === 'function' && typeof finish === 'function'
          ? { start: start as Hook['start'], finish: finish as Hook['finish'] }
          : {}),
        ...(typeof resume === 'function' ? { resume: resume as RebuildFunction } : {}),
        where: relative,
        tried,
      };
    }
  }
  return { where: '', tried };
}

const EVENTS_PER_TENANT = 1_000;
const REBUILT_SCHEMA = 'read_model_rebuilt';

/** Fills the log: tenants of 1,000 events each (TenantCreated, root, 998 WorkspaceCreated 3 deep), plus their name reservations. */
async function seedLog(
  store: EventStore,
  totalEvents: number,
  runTag: string,
): Promise<{ tenants: number; workspaces: number }> {
  const tenants = Math.max(1, Math.round(totalEvents / EVENTS_PER_TENANT));
  const perTenant = EVENTS_PER_TENANT - 2;
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let index = next++; index < tenants; index = next++) {
        const tenantId = randomUUID();
        const birth = tenantBirth(tenantId, `rebuild-${runTag}-${index}`);
        await store.appendToStream(birth.reservation.stream, [birth.reservation.event], 'no_stream');
        const context = operatorContext();
        const workspaces = planTree(tenantId, shapeFor(perTenant, 3, 10), 'seed').map((w) =>
          stored(workspaceCreated(tenantId, w.workspaceId, w.parentWorkspaceId, w.name), context),
        );
        await store.appendToStream(tenantStreamName(tenantId), [...birth.tenant, ...workspaces], 'no_stream');
      }
    }),
  );
  return { tenants, workspaces: tenants * (perTenant + 1) };
}

/**
 * The ceiling: the rows the rebuild produced, inserted again by plain multi-row INSERTs (1,000 rows
 * per statement, json_populate_recordset) into a fresh copy of the read-model tables made by the same
 * rm_create_schema (same indexes, constraints, FK). Only the INSERT time counts, not reading the rows.
 */
async function rawInsertSeconds(url: string, source: string): Promise<{ seconds: number; rows: number }> {
  const reader = new pg.Client({ connectionString: url, application_name: 'bench-rebuild-read' });
  const writer = new pg.Client({ connectionString: url, application_name: 'bench-rebuild-raw' });
  await reader.connect();
  await writer.connect();
  try {
    await writer.query(`DROP SCHEMA IF EXISTS bench_raw CASCADE`);
    await writer.query(`SELECT rm_create_schema('bench_raw')`);
    let seconds = 0;
    let rows = 0;
    const tables: [string, string][] = [
      ['tenants', 'tenant_id'],
      ['workspaces', 'depth, tenant_id, workspace_id'],
      ['audit_log', 'position'],
    ];
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    for (const [table, order] of tables) {
      await reader.query(`DECLARE rows_${table} NO SCROLL CURSOR FOR
        SELECT row_to_json(t)::text AS j FROM ${source}.${table} t ORDER BY ${order}`);
      for (;;) {
        const { rows: batch } = await reader.query<{ j: string }>(`FETCH 1000 FROM rows_${table}`);
        if (batch.length === 0) break;
        const json = `[${batch.map((row) => row.j).join(',')}]`;
        const started = performance.now();
        await writer.query(
          `INSERT INTO bench_raw.${table} SELECT * FROM json_populate_recordset(null::bench_raw.${table}, $1::json)`,
          [json],
        );
        seconds += (performance.now() - started) / 1000;
        rows += batch.length;
      }
    }
    await reader.query('COMMIT');
    await writer.query(`DROP SCHEMA bench_raw CASCADE`);
    return { seconds, rows };
  } finally {
    await reader.end();
    await writer.end();
  }
}

/**
 * The ceiling of the method itself: the rows the rebuild produced, already in COPY's binary format
 * (as the rebuild sends them) in memory, copied into a schema made by startRebuild (primary keys
 * only) the way the rebuild loads them (workspaces and tenants on one connection, the audit log on
 * another, at once), then finished by finishRebuild with the same pool. Everything the rebuild does
 * besides (reading and decoding the log, working out the rows) is left out. Null without
 * startRebuild.
 */
async function copyCeilingSeconds(
  url: string,
  source: string,
  pool: pg.Pool,
  hook: Hook,
): Promise<{ copySeconds: number; finishSeconds: number } | null> {
  if (!hook.start || !hook.finish) return null;
  const schema = 'bench_copy_ceiling';
  const tables = ['tenants', 'workspaces', 'audit_log'] as const;
  const connections = [0, 1].map(
    () => new pg.Client({ connectionString: url, application_name: 'bench-rebuild-copy' }),
  );
  const [first, second] = connections as [pg.Client, pg.Client];
  await Promise.all(connections.map((client) => client.connect()));
  try {
    const copied = new Map<string, Buffer[]>();
    for (const table of tables) {
      const chunks: Buffer[] = [];
      for await (const chunk of first.query(copyTo(`COPY ${source}.${table} TO STDOUT (FORMAT binary)`))) {
        chunks.push(chunk as Buffer);
      }
      copied.set(table, chunks);
    }
    await first.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await hook.start(first, schema);
    const copyInto = async (client: pg.Client, table: string) =>
      pipeline(
        Readable.from(copied.get(table) ?? []),
        client.query(copyFrom(`COPY ${schema}.${table} FROM STDIN (FORMAT binary)`)),
      );
    const started = performance.now();
    await Promise.all([
      copyInto(first, 'tenants').then(() => copyInto(first, 'workspaces')),
      copyInto(second, 'audit_log'),
    ]);
    const copySeconds = (performance.now() - started) / 1000;
    copied.clear();
    const finishing = performance.now();
    await hook.finish(first, schema, pool);
    const finishSeconds = (performance.now() - finishing) / 1000;
    await first.query(`DROP SCHEMA ${schema} CASCADE`);
    return { copySeconds, finishSeconds };
  } finally {
    await Promise.all(connections.map((client) => client.end()));
  }
}

interface QueryTime {
  ms: number;
  calls: number;
}

/** Wraps `target.query` to add up the time its promises take (where a replay spends its time). */
function timeQueries(target: { query: unknown }, bucket: QueryTime): () => void {
  const original = target.query as (...args: unknown[]) => unknown;
  target.query = (...args: unknown[]) => {
    const started = performance.now();
    const result = original.apply(target, args);
    if (result instanceof Promise) {
      return result.finally(() => {
        bucket.ms += performance.now() - started;
        bucket.calls += 1;
      });
    }
    return result;
  };
  return () => {
    target.query = original;
  };
}

/**
 * The replay's rate over each slice of `slice` events, from its progress marks: between the first
 * marks at or past each slice's start and end (marks come once per chunk of the log).
 */
function ratesPerSlice(marks: readonly { events: number; at: number }[], slice: number): number[] {
  const rates: number[] = [];
  let from = marks[0];
  for (let boundary = slice; from; boundary += slice) {
    const to = marks.find((mark) => mark.events >= boundary);
    if (!to || to.events <= from.events) break;
    rates.push(Math.round(((to.events - from.events) * 1000) / (to.at - from.at)));
    from = to;
  }
  return rates;
}

/** A window's CPU use as metrics named after the window; nothing it could not read. */
function cpuMetrics(window: string, use: CpuUse | undefined): Record<string, number> {
  if (!use) return {};
  return {
    [`${window}ProcessCpuSeconds`]: round(use.processSeconds, 1),
    ...(use.serverSeconds === undefined
      ? {}
      : { [`${window}ServerCpuSeconds`]: round(use.serverSeconds, 1) }),
    ...(use.machineCoresBusy === undefined ? {} : { [`${window}CoresBusy`]: round(use.machineCoresBusy, 2) }),
  };
}

function describeApplied(applied: unknown): string {
  if (applied instanceof Map) {
    return [...applied.entries()]
      .map(([name, events]) => `${String(name)} ${String(events)} events`)
      .join(', ');
  }
  return JSON.stringify(applied) ?? 'nothing';
}

export interface RebuildLog {
  readonly url: string;
  readonly pool: pg.Pool;
  /** Events in the log (tenant streams and name reservations). */
  readonly events: number;
  readonly seeded: { tenants: number; workspaces: number };
  readonly seedSeconds: number;
}

const REBUILD_LOG_KEY = 'rebuildLog';

/**
 * The log the rebuild and replay-cli scenarios replay, in a database of its own (1,000,000 events,
 * 20,000 quick), seeded once per run through the EventStore port. No service runs on it.
 */
export async function rebuildLog(ctx: StoreContext, size: Size): Promise<RebuildLog> {
  const cached = ctx.shared.get(REBUILD_LOG_KEY) as Promise<RebuildLog> | undefined;
  if (cached) return cached;
  const seeding = (async (): Promise<RebuildLog> => {
    const totalEvents = size === 'quick' ? 20_000 : 1_000_000;
    const database = `bench_rebuild_${ctx.runTag}`;
    const admin = new pg.Client({ connectionString: ctx.serverUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${quoteIdentifier(database)}`);
    } finally {
      await admin.end();
    }
    const url = withDatabase(ctx.serverUrl, database);
    const pool = createPool({ connectionString: url, max: 10, applicationName: 'bench-rebuild' });
    pool.on('error', (error) => ctx.log(`  rebuild pool: ${error.message}`));
    const store = new PostgresEventStore(pool, url);
    ctx.defer(async () => {
      await store.close();
      await pool.end();
    });
    await runMigrations(url);
    const seedStarted = performance.now();
    const seeded = await seedLog(store, totalEvents, ctx.runTag);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const { rows } = await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM events');
    const events = rows[0]?.count ?? 0;
    ctx.log(
      `  seeded ${events} events in ${round(seedSeconds, 1)} s for the rebuild and replay-cli scenarios`,
    );
    // The log as autovacuum leaves one written over time: vacuumed, with statistics. A million rows
    // written in half a minute have neither yet; without statistics the planner misjudges the first
    // reads, and autovacuum's VACUUM of them ran during the replay (seen in 9 of its 33 seconds in a
    // full run), sharing the cores with what the scenario measures.
    await pool.query('VACUUM (ANALYZE) events');
    await pool.query('CHECKPOINT');
    return { url, pool, events, seeded, seedSeconds };
  })();
  ctx.shared.set(REBUILD_LOG_KEY, seeding);
  return seeding;
}

export const rebuildScenario: Scenario = {
  id: 'rebuild',
  description:
    'replay 1,000,000 events from zero into all read models (rebuildReadModels), vs a raw batched INSERT of the same resulting rows (and vs a COPY of them, the ceiling of its own method)',
  target: {
    text: '>= 50,000 events/s and ratio >= 0.5, the last slice of the log within 20% of the first',
    checks: [
      { metric: 'figure', op: '>=', value: 50_000 },
      { metric: 'ratio', op: '>=', value: 0.5 },
      { metric: 'lastToFirstSlice', op: '>=', value: 0.8 },
    ],
  },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    const hook = await resolveRebuild();
    if (!hook.fn) {
      return {
        notRun: `no ${REBUILD_FUNCTION}() exported by ${hook.tried.join(', ')} (rebuild entry point not built yet)`,
      };
    }
    const budgetSeconds = size === 'quick' ? 20 : 120;
    const { url, pool, events, seeded, seedSeconds } = await rebuildLog(ctx, size);
    // The log is read through the compiled adapter too, on the same pool, as the replay reads it.
    const adapter = (await importBuilt('src/event-store/postgres/postgres-event-store.js')) as {
      PostgresEventStore: typeof PostgresEventStore;
    };
    const replayStore = new adapter.PostgresEventStore(pool, url);
    const client = new pg.Client({ connectionString: url, application_name: 'bench-rebuild' });
    client.on('error', (error) => ctx.log(`  rebuild client: ${error.message}`));
    await client.connect();
    const applied: unknown[] = [];
    // Where the replay's time goes: its connection (projection SQL, checkpoints) vs the store's pool (log reads).
    const writeTime: QueryTime = { ms: 0, calls: 0 };
    const readTime: QueryTime = { ms: 0, calls: 0 };
    const restoreTimers: (() => void)[] = [];
    let seconds = 0;
    let finishSeconds = 0;
    const sliceRates: number[] = [];
    let replayed = 0;
    let lastLog = performance.now();
    let heapAtStartMb = 0;
    let heapCollected = false;
    /** Where the CPU went while the replay loaded the tables, and while it finished them. */
    let loadCpu: CpuUse | undefined;
    let finishCpu: CpuUse | undefined;
    // On the service database's pool, since the replay's own pool is timed as its log reads. The
    // checkpointer flushes what the scenarios before this one left dirty as well as the load's.
    const background = new BackgroundWorkWatch(ctx.pool);
    let backgroundSeen = '';
    let replayStart = performance.now();
    /** Events replayed and when, at each progress report of the replay (one per chunk of the log). */
    const marks: { events: number; at: number }[] = [];
    try {
      const options: RebuildOptions = {
        store: replayStore,
        client,
        schema: REBUILT_SCHEMA,
        onProgress(progress) {
          marks.push({ events: progress.events, at: performance.now() });
          if (performance.now() - lastLog < 10_000) return;
          lastLog = performance.now();
          ctx.log(`  rebuild: ${progress.projection} ${progress.events} events`);
        },
        eventStore: replayStore,
        pool,
        databaseUrl: url,
        // A slow replay stops at the time budget (between chunks) instead of running the suite
        // past its 12 minutes; the events it replayed are counted.
        signal: AbortSignal.timeout(budgetSeconds * 1000),
        // Chunks small enough, at the quick size, for its slices to be seen.
        ...(size === 'quick' ? { chunkSize: 1_000, batchSize: 1_000 } : {}),
      };
      // The seed's garbage is collected too, before the clocks start; what is live then (the
      // earlier scenarios' shared data) is what the replay's collections work around.
      heapCollected = collectGarbage();
      heapAtStartMb = heapUsedMb();
      const cpu = await CpuClock.forServerOf(client, { 'the service (idle)': ctx.service.pid });
      restoreTimers.push(timeQueries(client, writeTime), timeQueries(pool, readTime));
      // One call over the whole log, as `tenancy replay` makes it; the rate per slice of the log
      // comes from its progress reports.
      background.start();
      const cpuAtStart = cpu.read();
      const started = performance.now();
      replayStart = started;
      marks.push({ events: 0, at: started });
      if (hook.start && hook.resume) {
        await hook.start(client, REBUILT_SCHEMA);
        applied.push(await hook.resume(options));
      } else {
        applied.push(await hook.fn(options));
      }
      const cpuAtFinish = cpu.read();
      const finishing = performance.now();
      if (hook.finish && hook.resume) {
        await hook.finish(client, REBUILT_SCHEMA, pool);
      }
      finishSeconds = (performance.now() - finishing) / 1000;
      loadCpu = cpuUsedBetween(cpuAtStart, cpuAtFinish);
      finishCpu = cpuUsedBetween(cpuAtFinish, cpu.read());
      seconds = (performance.now() - started) / 1000;
      const last = marks[marks.length - 1]?.events ?? 0;
      // The whole log, reservations included, when every tenant event was replayed.
      replayed = last >= events - seeded.tenants ? events : last;
      if (replayed < events) {
        ctx.log(
          `  rebuild: stopped after ${replayed} of ${events} events, time budget of ${budgetSeconds} s spent`,
        );
      }
      sliceRates.push(...ratesPerSlice(marks, size === 'quick' ? 2_000 : 100_000));
    } finally {
      backgroundSeen = await background.stop(replayStart);
      for (const restore of restoreTimers) restore();
      await client.end();
      await replayStore.close();
    }
    // The rebuild built REBUILT_SCHEMA; an entry point that rebuilt read_model in place is also understood.
    const { rowCount: built } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [
      REBUILT_SCHEMA,
    ]);
    const schema = built ? REBUILT_SCHEMA : 'read_model';
    const { rows: counts } = await pool.query<{ tenants: number; workspaces: number; audit: number }>(
      `SELECT (SELECT count(*) FROM ${schema}.tenants)::int AS tenants,
                (SELECT count(*) FROM ${schema}.workspaces)::int AS workspaces,
                (SELECT count(*) FROM ${schema}.audit_log)::int AS audit`,
    );
    const count = counts[0] ?? { tenants: 0, workspaces: 0, audit: 0 };
    const raw = await rawInsertSeconds(url, schema);
    const copyCeiling = replayed === events ? await copyCeilingSeconds(url, schema, pool, hook) : null;
    const copyCeilingSecondsTotal = copyCeiling ? copyCeiling.copySeconds + copyCeiling.finishSeconds : 0;
    const copyCeilingRate = copyCeiling ? replayed / copyCeilingSecondsTotal : 0;
    const figure = replayed / seconds;
    const ceiling = replayed / raw.seconds;
    const complete = replayed === events;
    return {
      figure: round(figure, 0),
      unit: 'events/s',
      ceiling: round(ceiling, 0),
      ceilingUnit: 'events/s (raw INSERT of the resulting rows)',
      ratio: round(figure / ceiling, 3),
      metrics: {
        projectionSqlSeconds: round(writeTime.ms / 1000, 1),
        logReadSeconds: round(readTime.ms / 1000, 1),
        rebuildSeconds: round(seconds, 1),
        finishSeconds: round(finishSeconds, 1),
        firstSliceEventsPerSecond: sliceRates[0] ?? 0,
        lastSliceEventsPerSecond: sliceRates[sliceRates.length - 1] ?? 0,
        lastToFirstSlice:
          sliceRates.length > 1
            ? round((sliceRates[sliceRates.length - 1] ?? 0) / (sliceRates[0] ?? 1), 2)
            : 1,
        rawInsertSeconds: round(raw.seconds, 1),
        ...cpuMetrics('load', loadCpu),
        ...cpuMetrics('finish', finishCpu),
        ...(copyCeiling
          ? {
              copyCeilingSeconds: round(copyCeilingSecondsTotal, 1),
              copyCeilingEventsPerSecond: round(copyCeilingRate, 0),
              ratioToCopyCeiling: round(figure / copyCeilingRate, 3),
            }
          : {}),
        events,
        replayed,
      },
      verified: {
        eventsInLog: events,
        eventsReplayed: replayed,
        tenantRows: count.tenants,
        workspaceRows: count.workspaces,
        auditRows: count.audit,
        rawRowsInserted: raw.rows,
      },
      verifiedOk: complete
        ? count.tenants === seeded.tenants &&
          count.workspaces === seeded.workspaces &&
          count.audit === seeded.tenants * EVENTS_PER_TENANT
        : count.audit > 0 && count.workspaces > 0,
      notes: [
        `hook: ${hook.start && hook.resume ? `startRebuild(), ${RESUME_FUNCTION}() over the whole log, finishRebuild() with the pool` : `${REBUILD_FUNCTION}()`} from ${hook.where}, into schema ${schema}; it reported ${applied.map(describeApplied).join('; ')}`,
        ...(complete
          ? []
          : [
              `NOT the whole log: the replay stopped after ${replayed} of ${events} events when its time budget of ${budgetSeconds} s was spent (the suite must end within 10 minutes); figure and ceiling cover the replayed events`,
            ]),
        `rate per slice of the log (events/s between the replay's progress reports, one per chunk; indexes and foreign keys built after the last slice in ${round(finishSeconds, 1)} s): ${sliceRates.join(', ')}`,
        heapCollected
          ? `the bench process held ${round(heapAtStartMb, 0)} MiB of live heap when the replay started, after a full collection (it runs in this process)`
          : `the bench process had ${round(heapAtStartMb, 0)} MiB of heap in use, garbage included, when the replay started (it runs in this process; node without --expose-gc, so nothing was collected first)`,
        ...(loadCpu && finishCpu
          ? [
              `CPU while loading, ${describeCpuUse(loadCpu)}; while finishing, ${describeCpuUse(finishCpu)} (PostgreSQL counts every process of the server, this process is the replay's); during the replay (times after its start), ${backgroundSeen}`,
            ]
          : []),
        `time inside the replay: ${round(writeTime.ms / 1000, 1)} s in ${writeTime.calls} queries on the rebuild's own connection (the tenancy projection's chunks, checkpoints, BEGIN/COMMIT, half of the finish; the other projections load on connections of their own, side by side), ${round(readTime.ms / 1000, 1)} s in ${readTime.calls} log reads through the EventStore port; the rest is JavaScript in the bench process`,
        `log: ${seeded.tenants} tenants x 1,000 events (TenantCreated, root, 998 WorkspaceCreated 3 deep) + ${seeded.tenants} name reservations, seeded in ${round(seedSeconds, 1)} s`,
        `raw INSERT ceiling: ${raw.rows} rows (tenants, workspaces, audit_log) in ${round(raw.seconds, 1)} s into tables made by rm_create_schema`,
        copyCeiling
          ? `ceiling of the method (the same rows already in COPY's binary format, copied as the rebuild loads them, then finishRebuild): ${round(copyCeiling.copySeconds, 1)} s of COPY + ${round(copyCeiling.finishSeconds, 1)} s of finishing = ${round(copyCeilingRate, 0)} events/s; the rebuild reached ${round(figure / copyCeilingRate, 3)} of it, reading and decoding the log and working out the rows besides`
          : 'ceiling of the method: not measured (the replay did not cover the whole log, or the rebuild has no startRebuild/finishRebuild)',
      ],
    };
  },
};

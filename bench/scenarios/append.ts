import { randomUUID } from 'node:crypto';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { operatorContext, stored, workspaceCreated } from '../lib/events.js';
import {
  benchPool,
  createInsertCeilingTable,
  dropInsertCeilingTable,
  runWorkers,
  singleRowInsertRun,
  type ThroughputRun,
} from '../lib/pg-ceiling.js';
import { round } from '../lib/stats.js';
import type { PortScenario, Scenario, ScenarioOutcome, Size, StoreContext } from '../lib/types.js';

export const WRITERS = 8;

/** What the commands scenario compares against: raw single-row INSERT commits/s at 8 connections. */
export interface InsertCeiling {
  readonly perSecond: number;
  readonly rows: number;
  readonly seconds: number;
}

export const INSERT_CEILING_KEY = 'insertCeiling';

function payload(tenantId: string) {
  const context = operatorContext();
  return (_worker: number, iteration: number) =>
    stored(workspaceCreated(tenantId, randomUUID(), randomUUID(), `append-${iteration}`), context);
}

/**
 * The ceiling alone (for a scenario run without `append`, e.g. `--only commands`): raw single-row
 * INSERT commits with 8 connections for `durationMs`.
 */
export async function measureInsertCeiling(ctx: StoreContext, durationMs: number): Promise<InsertCeiling> {
  const cached = ctx.shared.get(INSERT_CEILING_KEY) as InsertCeiling | undefined;
  if (cached) return cached;
  const pool = benchPool(ctx.databaseUrl, WRITERS, 'bench-ceiling');
  try {
    const table = await createInsertCeilingTable(pool, `insert_ceiling_${ctx.runTag}`);
    const run = await singleRowInsertRun(pool, table, WRITERS, durationMs, payload(randomUUID()), ctx.runTag);
    await dropInsertCeilingTable(pool, table);
    const ceiling = { perSecond: run.perSecond, rows: run.operations, seconds: run.seconds };
    ctx.shared.set(INSERT_CEILING_KEY, ceiling);
    return ceiling;
  } finally {
    await pool.end();
  }
}

/**
 * Single-event appends through the port against raw single-row INSERT commits, in alternating
 * phases of the same length, each side on its own pool of 8 connections.
 */
async function appendsAgainstCeiling(ctx: StoreContext, size: Size, label: string): Promise<ScenarioOutcome> {
  const rounds = size === 'quick' ? 1 : 4;
  const phaseMs = size === 'quick' ? 1_500 : 5_000;
  // Each side has its own pool of 8 connections, opened (and warmed) before any timing.
  const storePool = benchPool(ctx.databaseUrl, WRITERS, 'bench-append');
  const store = new PostgresEventStore(storePool, ctx.databaseUrl);
  const ceilingPool = benchPool(ctx.databaseUrl, WRITERS, 'bench-ceiling');
  const table = await createInsertCeilingTable(
    ceilingPool,
    `${label.replace(/\W/g, '_')}_ceiling_${ctx.runTag}`,
  );
  const tenantId = randomUUID();
  const streams = Array.from({ length: WRITERS }, (_, w) => `bench-${label}-${ctx.runTag}-${w}`);
  const revisions: (number | undefined)[] = streams.map(() => undefined);
  const make = payload(tenantId);

  const appendRun = (ms: number): Promise<ThroughputRun> =>
    runWorkers(WRITERS, ms, async (worker, iteration) => {
      const result = await store.appendToStream(
        streams[worker] as string,
        [make(worker, iteration)],
        revisions[worker] ?? 'no_stream',
      );
      revisions[worker] = result.nextExpectedRevision;
    });
  const ceilingRun = (ms: number): Promise<ThroughputRun> =>
    singleRowInsertRun(ceilingPool, table, WRITERS, ms, make, ctx.runTag);

  try {
    // Warm-up: connections, plans, caches.
    await appendRun(500);
    await ceilingRun(500);
    const { rows: before } = await ctx.pool.query<{ events: number; rows: number }>(
      `SELECT (SELECT count(*) FROM events WHERE stream_name LIKE $1)::int AS events,
              (SELECT count(*) FROM ${table})::int AS rows`,
      [`bench-${label}-${ctx.runTag}-%`],
    );

    // Alternate the two, ABBA, so drift (autovacuum, checkpoints, page cache) hits both alike.
    let appends = 0;
    let appendSeconds = 0;
    let inserts = 0;
    let insertSeconds = 0;
    const perRound: string[] = [];
    for (let round_ = 0; round_ < rounds; round_++) {
      const order = round_ % 2 === 0 ? ['append', 'ceiling'] : ['ceiling', 'append'];
      const line: string[] = [];
      for (const side of order) {
        if (side === 'append') {
          const run = await appendRun(phaseMs);
          appends += run.operations;
          appendSeconds += run.seconds;
          line.push(`port ${Math.round(run.perSecond)}/s`);
        } else {
          const run = await ceilingRun(phaseMs);
          inserts += run.operations;
          insertSeconds += run.seconds;
          line.push(`raw ${Math.round(run.perSecond)}/s`);
        }
      }
      perRound.push(line.join(', '));
      ctx.log(`  ${label} round ${round_ + 1}/${rounds}: ${line.join(', ')}`);
    }

    const { rows: after } = await ctx.pool.query<{ events: number; rows: number }>(
      `SELECT (SELECT count(*) FROM events WHERE stream_name LIKE $1)::int AS events,
              (SELECT count(*) FROM ${table})::int AS rows`,
      [`bench-${label}-${ctx.runTag}-%`],
    );
    const eventsWritten = (after[0]?.events ?? 0) - (before[0]?.events ?? 0);
    const rowsWritten = (after[0]?.rows ?? 0) - (before[0]?.rows ?? 0);
    const figure = appends / appendSeconds;
    const ceiling = inserts / insertSeconds;
    ctx.shared.set(INSERT_CEILING_KEY, {
      perSecond: ceiling,
      rows: inserts,
      seconds: insertSeconds,
    } satisfies InsertCeiling);
    return {
      figure: round(figure, 0),
      unit: 'appends/s',
      ceiling: round(ceiling, 0),
      ceilingUnit: 'INSERT commits/s',
      ratio: round(figure / ceiling, 3),
      metrics: {
        appendsPerSecond: round(figure, 1),
        insertsPerSecond: round(ceiling, 1),
        appends,
        inserts,
      },
      verified: {
        appendsCounted: appends,
        eventsInLog: eventsWritten,
        insertsCounted: inserts,
        rowsInScratchTable: rowsWritten,
      },
      verifiedOk: eventsWritten === appends && rowsWritten === inserts,
      notes: [
        `${rounds} rounds of ${phaseMs / 1000} s per side, alternated ABBA: ${perRound.join('; ')}`,
        `ceiling table: LIKE events INCLUDING ALL (same PK, unique and identity), autocommit single-row INSERT of the same payload`,
      ],
    };
  } finally {
    await store.close();
    await storePool.end();
    try {
      await dropInsertCeilingTable(ceilingPool, table);
    } finally {
      await ceilingPool.end();
    }
  }
}

export const appendPortScenario: PortScenario = {
  id: 'append-port',
  description:
    'single-event appends through the EventStore port (PostgresEventStore) before the service starts, 8 writers on distinct streams, vs raw single-row INSERT commits at 8 connections',
  target: { text: 'ratio >= 0.8', checks: [{ metric: 'ratio', op: '>=', value: 0.8 }] },
  beforeService: true,
  run: (ctx, size) => appendsAgainstCeiling(ctx, size, 'append-port'),
};

export const appendScenario: Scenario = {
  id: 'append',
  description:
    'the same appends with the service running (its projections, process managers and key registry follow the log), vs raw single-row INSERT commits at 8 connections',
  target: { text: 'ratio >= 0.5', checks: [{ metric: 'ratio', op: '>=', value: 0.5 }] },
  run: (ctx, size) => appendsAgainstCeiling(ctx, size, 'append'),
};

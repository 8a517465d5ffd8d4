import { randomUUID } from 'node:crypto';
import { ConcurrencyError } from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { operatorContext, stored, workspaceCreated } from '../lib/events.js';
import { benchPool, runWorkers, type ThroughputRun } from '../lib/pg-ceiling.js';
import { round, sleep } from '../lib/stats.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';

const WRITERS = 16;
const STREAMS = 4;
const POOL_SIZE = 8;

/** Sessions PostgreSQL has started in this database (its own count, flushed at most every second). */
async function sessionsStarted(ctx: BenchContext): Promise<number> {
  await sleep(1_100);
  const { rows } = await ctx.pool.query<{ sessions: number }>(
    'SELECT sessions::int AS sessions FROM pg_stat_database WHERE datname = current_database()',
  );
  return rows[0]?.sessions ?? 0;
}

export const contendedScenario: Scenario = {
  id: 'contended',
  description: `${WRITERS} writers on ${STREAMS} streams through the EventStore port (pool of ${POOL_SIZE}), exact expected revision, retry on conflict`,
  target: {
    text: '0 new backends per conflict',
    checks: [{ metric: 'backendsPerConflict', op: '<=', value: 0 }],
  },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    const phaseMs = size === 'quick' ? 1_500 : 5_000;
    const pool = benchPool(ctx.databaseUrl, POOL_SIZE, 'bench-contended');
    let opened = 0;
    pool.on('connect', () => {
      opened += 1;
    });
    const store = new PostgresEventStore(pool, ctx.databaseUrl);
    const context = operatorContext();
    const tenantId = randomUUID();
    try {
      const run = async (streams: readonly string[]): Promise<ThroughputRun & { conflicts: number }> => {
        const revisions = new Map<string, number>();
        let conflicts = 0;
        const result = await runWorkers(WRITERS, phaseMs, async (worker, iteration) => {
          const stream = streams[worker % streams.length] as string;
          for (;;) {
            try {
              const appended = await store.appendToStream(
                stream,
                [stored(workspaceCreated(tenantId, randomUUID(), randomUUID(), `c-${iteration}`), context)],
                revisions.get(stream) ?? 'no_stream',
              );
              revisions.set(stream, appended.nextExpectedRevision);
              return;
            } catch (error) {
              if (!(error instanceof ConcurrencyError)) throw error;
              conflicts += 1;
              const actual = error.actual;
              if (typeof actual === 'number') revisions.set(stream, actual);
            }
          }
        });
        return { ...result, conflicts };
      };
      const streamsOf = (count: number) =>
        Array.from(
          { length: count },
          (_, i) => `bench-contended-${ctx.runTag}-${randomUUID().slice(0, 8)}-${i}`,
        );
      // Warm-up: every pooled connection opened before counting.
      await run(streamsOf(WRITERS));
      const openedBefore = opened;
      const sessionsBefore = await sessionsStarted(ctx);
      const contended = await run(streamsOf(STREAMS));
      const sessionsAfter = await sessionsStarted(ctx);
      const openedDuring = opened - openedBefore;
      const uncontended = await run(streamsOf(WRITERS));
      // The harness's own count queries open no session; the service's consumers may (reconnects).
      const backends = sessionsAfter - sessionsBefore;
      return {
        figure: round(contended.perSecond, 0),
        unit: 'successful appends/s',
        ceiling: round(uncontended.perSecond, 0),
        ceilingUnit: `appends/s on ${WRITERS} streams (no conflicts)`,
        ratio: round(contended.perSecond / uncontended.perSecond, 3),
        metrics: {
          conflicts: contended.conflicts,
          conflictsPerSecond: round(contended.conflicts / contended.seconds, 0),
          backendsStarted: backends,
          poolConnectionsOpened: openedDuring,
          backendsPerConflict: contended.conflicts > 0 ? round(openedDuring / contended.conflicts, 4) : 0,
        },
        verified: { appends: contended.operations, conflicts: contended.conflicts },
        verifiedOk: contended.operations > 0 && contended.conflicts > 0,
        notes: [
          `${contended.conflicts} conflicts in ${round(contended.seconds, 1)} s; the writers' pool opened ${openedDuring} connections meanwhile; pg_stat_database.sessions rose by ${backends} (every client of the database, the service's included)`,
          `uncontended: the same ${WRITERS} writers on ${WRITERS} streams, ${round(uncontended.perSecond, 0)} appends/s`,
        ],
      };
    } finally {
      await store.close();
      await pool.end();
    }
  },
};

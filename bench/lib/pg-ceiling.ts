import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { EventToAppend } from '../../src/event-store/event-store.port.js';

export const SCRATCH_SCHEMA = 'bench_scratch';

/**
 * A scratch table with exactly the shape of the event log (`LIKE events INCLUDING ALL`: the same
 * columns, defaults, identity, primary key and unique constraints), so a raw INSERT into it does
 * the same index work as an append, minus everything the event store adds on top.
 */
export async function createInsertCeilingTable(pool: pg.Pool, name: string): Promise<string> {
  const table = `${SCRATCH_SCHEMA}.${name}`;
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${SCRATCH_SCHEMA}`);
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.query(`CREATE TABLE ${table} (LIKE public.events INCLUDING ALL)`);
  return table;
}

/**
 * Drops a ceiling table once its scenario has counted its rows: left behind, its hundreds of
 * thousands of fresh rows draw autovacuum's VACUUM ANALYZE into the scenarios that follow (seen in
 * 6 of lag's 14 seconds), and its dirty pages into their checkpoints.
 */
export async function dropInsertCeilingTable(pool: pg.Pool, table: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
}

export interface ThroughputRun {
  readonly operations: number;
  readonly seconds: number;
  readonly perSecond: number;
}

/**
 * Runs `workers` loops for `durationMs`, each calling `operation` one at a time; counts completions.
 * An operation that fails stops the run: a ceiling must not be made of errors.
 */
export async function runWorkers(
  workers: number,
  durationMs: number,
  operation: (worker: number, iteration: number) => Promise<void>,
): Promise<ThroughputRun> {
  let operations = 0;
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let iteration = 0; performance.now() < end; iteration++) {
        await operation(worker, iteration);
        operations += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { operations, seconds, perSecond: operations / seconds };
}

/**
 * The ceiling for single-event appends: `workers` connections, each committing one single-row
 * INSERT (autocommit, so one WAL flush per row) of the same event payload after the other.
 */
export async function singleRowInsertRun(
  pool: pg.Pool,
  table: string,
  workers: number,
  durationMs: number,
  payload: (worker: number, iteration: number) => EventToAppend,
  tag: string,
): Promise<ThroughputRun> {
  const sql = `INSERT INTO ${table} (stream_name, stream_revision, event_id, event_type, data, metadata)
               VALUES ($1, $2, $3, $4, $5, $6)`;
  // A stream of its own per worker and round: rounds of one run never collide on a revision.
  const round = randomUUID().slice(0, 8);
  return runWorkers(workers, durationMs, async (worker, iteration) => {
    const event = payload(worker, iteration);
    await pool.query(sql, [
      `ceiling-${tag}-${round}-${worker}`,
      iteration,
      event.id ?? randomUUID(),
      event.type,
      JSON.stringify(event.data),
      JSON.stringify(event.metadata ?? {}),
    ]);
  });
}

export function benchPool(connectionString: string, max: number, applicationName: string): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: applicationName });
  // An idle connection that dies must not take the whole run down with an unhandled 'error'.
  pool.on('error', (error) => console.error(`${applicationName} pool: ${error.message}`));
  return pool;
}

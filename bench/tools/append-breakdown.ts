/**
 * Diagnostic for the append and rebuild misses (not part of the suite). On a throw-away embedded
 * PostgreSQL, 8 connections each, alternating phases:
 *   raw       single-row INSERT into a LIKE-events table (the append ceiling)
 *   es_try_append the store's SQL function called directly (no pg_notify)
 *   port      PostgresEventStore.appendToStream (es_try_append + a coalesced pg_notify after commit)
 *   port-nn   the same with its change notification switched off
 * then, in one transaction, 2,000 UPDATEs of one row vs 2,000 UPDATEs of distinct rows (what a rebuild
 * batch does to a tenant row). Usage: npx tsx bench/tools/append-breakdown.ts [seconds-per-phase]
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { operatorContext, stored, workspaceCreated } from '../lib/events.js';
import { withDiagnosticDatabase } from '../lib/diagnostic-database.js';
import { benchPool, createInsertCeilingTable, runWorkers, singleRowInsertRun } from '../lib/pg-ceiling.js';

const WRITERS = 8;
const phaseMs = Number(process.argv[2] ?? 4) * 1000;

async function main(): Promise<void> {
  await withDiagnosticDatabase(async (url) => {
    const pool = benchPool(url, WRITERS, 'diag');
    const table = await createInsertCeilingTable(pool, 'diag_ceiling');
    const context = operatorContext();
    const make = () => stored(workspaceCreated(randomUUID(), randomUUID(), randomUUID(), 'diag'), context);
    const storePool = benchPool(url, WRITERS, 'diag-port');
    const store = new PostgresEventStore(storePool, url);
    const quietPool = benchPool(url, WRITERS, 'diag-port-nn');
    const quiet = new PostgresEventStore(quietPool, url);
    (quiet as unknown as { notifier: { appended(): void } }).notifier.appended = () => undefined;
    const revisions = new Map<string, number>();
    const viaPort = (which: PostgresEventStore, tag: string) =>
      runWorkers(WRITERS, phaseMs, async (worker) => {
        const stream = `diag-${tag}-${worker}`;
        const result = await which.appendToStream(stream, [make()], revisions.get(stream) ?? 'no_stream');
        revisions.set(stream, result.nextExpectedRevision);
      });
    const phases: Record<string, () => Promise<{ perSecond: number }>> = {
      raw: () => singleRowInsertRun(pool, table, WRITERS, phaseMs, make, 'diag'),
      es_try_append: () =>
        runWorkers(WRITERS, phaseMs, async (worker) => {
          const event = make();
          await pool.query(
            'SELECT * FROM es_try_append($1, $2, $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])',
            [
              `diag-sql-${worker}`,
              'any',
              [event.id],
              [event.type],
              [JSON.stringify(event.data)],
              [JSON.stringify(event.metadata)],
            ],
          );
        }),
      port: () => viaPort(store, 'port'),
      'port-nn': () => viaPort(quiet, 'quiet'),
    };
    const totals = new Map<string, number[]>();
    for (let round = 0; round < 2; round++) {
      const order = round % 2 === 0 ? Object.keys(phases) : Object.keys(phases).reverse();
      for (const name of order) {
        const run = await (phases[name] as () => Promise<{ perSecond: number }>)();
        totals.set(name, [...(totals.get(name) ?? []), run.perSecond]);
      }
    }
    console.log(`commits/s, ${WRITERS} connections, ${phaseMs / 1000} s per phase, 2 rounds:`);
    for (const [name, values] of totals) {
      console.log(`  ${name.padEnd(10)} ${values.map((v) => Math.round(v)).join(' / ')}`);
    }

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('CREATE TABLE diag_rows (id int PRIMARY KEY, v int NOT NULL, pad text)');
    await client.query("INSERT INTO diag_rows SELECT g, 0, repeat('x', 200) FROM generate_series(1, 2000) g");
    for (const [label, idOf] of [
      ['same row', () => 1],
      ['distinct rows', (i: number) => i + 1],
    ] as [string, (i: number) => number][]) {
      const statements = Array.from(
        { length: 2000 },
        (_, i) => `UPDATE diag_rows SET v = v + 1 WHERE id = ${idOf(i)}`,
      );
      const started = performance.now();
      await client.query(`BEGIN; ${statements.join(';\n')}; COMMIT`);
      console.log(
        `  2,000 UPDATEs in one transaction, ${label}: ${(performance.now() - started).toFixed(0)} ms`,
      );
    }
    await client.end();
    await store.close();
    await quiet.close();
    await Promise.all([pool.end(), storePool.end(), quietPool.end()]);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

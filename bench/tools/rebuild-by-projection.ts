/**
 * Diagnostic for the rebuild (not part of the suite): how long each projection alone takes to
 * rebuild a log with members, groups and grants, which the rebuild scenario's log has none of. On a
 * throw-away embedded PostgreSQL: 4 tenants, each with 20,000 workspaces 8 deep and the permission
 * scenarios' quick-size membership (1,020 members, 100 groups, about 9,700 memberships, 5,000
 * grants), then one rebuild per projection into a fresh schema, finished.
 * Usage: npx tsx bench/tools/rebuild-by-projection.ts [tenants]
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import type { ExpectedRevision } from '../../src/event-store/event-store.port.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';
import { dropReadModelSchema, rebuildReadModels } from '../../projections/read-model.rebuild.js';
import { operatorContext, planTree, shapeFor, stored, tenantBirth, workspaceCreated } from '../lib/events.js';
import { withDiagnosticDatabase } from '../lib/diagnostic-database.js';
import { benchPool } from '../lib/pg-ceiling.js';
import { round } from '../lib/stats.js';
import { planMembership, SEED_SIZES } from '../scenarios/permissions.seed.js';

const tenants = Number(process.argv[2] ?? 4);

async function main(): Promise<void> {
  await withDiagnosticDatabase(async (url) => {
    const pool = benchPool(url, 10, 'diag-rebuild');
    const store = new PostgresEventStore(pool, url);
    for (let index = 0; index < tenants; index++) {
      const tenantId = randomUUID();
      const birth = tenantBirth(tenantId, `diag-${index}`);
      await store.appendToStream(birth.reservation.stream, [birth.reservation.event], 'no_stream');
      const workspaces = planTree(tenantId, shapeFor(20_000, 8, 10), 'd');
      const { events } = planMembership(tenantId, workspaces, SEED_SIZES.quick);
      const all = [
        ...birth.tenant,
        ...workspaces.map((w) =>
          stored(workspaceCreated(tenantId, w.workspaceId, w.parentWorkspaceId, w.name), operatorContext()),
        ),
        ...events.map((event) => stored(event, operatorContext())),
      ];
      let expected: ExpectedRevision = 'no_stream';
      for (let start = 0; start < all.length; start += 5_000) {
        const result = await store.appendToStream(
          tenantStreamName(tenantId),
          all.slice(start, start + 5_000),
          expected,
        );
        expected = result.nextExpectedRevision;
      }
    }
    await pool.query('ANALYZE events');
    const { rows } = await pool.query<{ event_type: string; count: number }>(
      'SELECT event_type, count(*)::int AS count FROM events GROUP BY 1 ORDER BY 2 DESC',
    );
    console.log(`log: ${rows.map((row) => `${row.event_type} ${row.count}`).join(', ')}`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const projection of READ_MODEL_PROJECTIONS) {
      await dropReadModelSchema(client, 'diag_rebuilt');
      const started = performance.now();
      const applied = await rebuildReadModels({
        store,
        client,
        schema: 'diag_rebuilt',
        projections: [projection],
        pool,
      });
      const seconds = (performance.now() - started) / 1000;
      console.log(`${projection.name}: ${applied.get(projection.name)} events in ${round(seconds, 2)} s`);
    }
    await client.end();
    await store.close();
    await pool.end();
  });
}

await main();

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import request from 'supertest';
import { replayReadModels } from '../../projections/read-model.replay.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A replay swaps its tables in under an exclusive lock. Behind a long reader of the live tables (an
 * analyst's transaction, a verify comparing), a lock request that waits queues every later read of
 * those tables behind it: the service's own reads would stand still for as long as that reader.
 */
describe("a replay's swap behind a long reader of the live read models", () => {
  let app: TestApp;
  let tenantId: string;

  beforeAll(async () => {
    app = await startTestApp();
    const tenant = await request(app.server).post('/v1/tenants').set(AUTH).send({ name: 'Swapped' });
    tenantId = (tenant.body as { tenantId: string }).tenantId;
    for (let index = 0; index < 5; index++)
      await request(app.server)
        .post(`/v1/tenants/${tenantId}/workspaces`)
        .set(AUTH)
        .send({ name: `W${index}` })
        .expect(201);
  });
  afterAll(() => app?.close());

  it('waits for its turn without holding up the service: reads answer at once, and the swap happens once the reader is done', async () => {
    const reader = new pg.Client({ connectionString: app.database.url });
    await reader.connect();
    const replayer = new pg.Client({ connectionString: app.database.url });
    await replayer.connect();
    const observer = new pg.Client({ connectionString: app.database.url });
    await observer.connect();
    let readerDone = false;
    const endReader = async () => {
      if (readerDone) return;
      readerDone = true;
      await reader.query('COMMIT');
    };
    // Ends the reader in any case, so that a swap that blocks reads cannot hang the test.
    const backstop = setTimeout(() => void endReader(), 6_000);
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM read_model.workspaces');
      const replay = replayReadModels({ store: app.runtime.eventStore, client: replayer });
      // The replay has built its copy and asks for the live tables.
      await waitFor(
        async () => {
          const { rows } = await observer.query<{ waiting: number }>(
            `SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
           WHERE NOT l.granted AND l.mode = 'AccessExclusiveLock' AND c.relname = 'workspaces'`,
          );
          return (rows[0]?.waiting ?? 0) > 0;
        },
        20_000,
        5,
      );

      const tookMs: number[] = [];
      for (let index = 0; index < 5; index++) {
        const started = Date.now();
        const page = await request(app.server).get(`/v1/tenants/${tenantId}/workspaces`).set(AUTH);
        expect(page.status).toBe(200);
        tookMs.push(Date.now() - started);
      }
      expect(tookMs.filter((ms) => ms >= 1_000)).toEqual([]);

      await endReader();
      const outcome = await replay;
      expect(outcome.events.get('tenancy-read-model')).toBeGreaterThan(0);
      const { rows } = await observer.query<{ names: number }>(
        `SELECT count(*)::int AS names FROM read_model.workspaces WHERE tenant_id = $1 AND name LIKE 'W%'`,
        [tenantId],
      );
      expect(rows[0]?.names).toBe(5);
    } finally {
      clearTimeout(backstop);
      await endReader().catch(() => undefined);
      await Promise.all([reader.end(), replayer.end(), observer.end()]);
    }
  }, 60_000);
});

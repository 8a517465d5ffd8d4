import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  compareReadModels,
  compareReadModelsAcross,
  identical,
} from '../../projections/read-model.comparison.js';
import { READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';
import { dropReadModelSchema, rebuildReadModels } from '../../projections/read-model.rebuild.js';
import { inTransaction } from '../../src/database/transaction.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

describe('rebuilding the read models from zero', () => {
  let app: TestApp;
  const http = () => request(app.server);

  beforeAll(async () => {
    app = await startTestApp({ cascadeBatchSize: 7 });
  });
  afterAll(async () => {
    await app.close();
  });

  it('gives read models identical to the live ones, renames, cascades and a deleted tenant included', async () => {
    const tenants: string[] = [];
    for (let t = 0; t < 4; t++) {
      const tenant = await http()
        .post('/v1/tenants')
        .set(AUTH)
        .send({ name: `Rebuild ${randomUUID()}` });
      tenants.push(tenant.body.tenantId);
      let parent: string | undefined;
      for (let i = 0; i < 30; i++) {
        const created = await http()
          .post(`/v1/tenants/${tenant.body.tenantId}/workspaces`)
          .set(AUTH)
          .send({ name: `W${i}`, ...(parent && i % 3 !== 0 ? { parentWorkspaceId: parent } : {}) });
        expect(created.status).toBe(201);
        if (i % 5 === 0) {
          await http()
            .patch(`/v1/tenants/${tenant.body.tenantId}/workspaces/${created.body.workspaceId}`)
            .set(AUTH)
            .send({ name: `W${i} renamed` });
        }
        parent = created.body.workspaceId;
      }
      if (t === 1 && parent)
        await http().delete(`/v1/tenants/${tenant.body.tenantId}/workspaces/${parent}`).set(AUTH);
    }
    const firstTenant = tenants[0] as string;
    const list = await http().get(`/v1/tenants/${firstTenant}/workspaces?limit=5`).set(AUTH);
    expect(list.status).toBe(200);
    await http()
      .delete(`/v1/tenants/${firstTenant}/workspaces/${list.body.items[1].workspaceId}?cascade=true`)
      .set(AUTH);
    await http().delete(`/v1/tenants/${tenants[2]}`).set(AUTH);

    // Wait until the live projections have applied everything in the log.
    const head = await app.runtime.eventStore.headPosition();
    await waitFor(async () => {
      const { rows } = await app.database.pool.query<{ position: string }>(
        'SELECT position FROM read_model.checkpoints',
      );
      return (
        rows.length === READ_MODEL_PROJECTIONS.length && rows.every((row) => row.position >= (head ?? ''))
      );
    }, 30_000);
    await waitFor(
      async () =>
        ((await http().get(`/v1/tenants/${tenants[2]}`).set(AUTH)).body as { status?: string }).status ===
        'deleted',
      30_000,
    );
    const settled = await app.runtime.eventStore.headPosition();
    await waitFor(async () => {
      const { rows } = await app.database.pool.query<{ position: string }>(
        'SELECT position FROM read_model.checkpoints',
      );
      return rows.every((row) => row.position >= (settled ?? ''));
    }, 30_000);

    const client = await app.database.pool.connect();
    try {
      await rebuildReadModels({
        store: app.runtime.eventStore,
        client,
        schema: 'rebuild_check',
        batchSize: 97,
      });
      const comparison = await compareReadModels(client, 'read_model', 'rebuild_check');
      expect(comparison.map((table) => table.rowsLeft)).toEqual(comparison.map((table) => table.rowsRight));
      expect(identical(comparison)).toBe(true);
      expect(comparison.find((table) => table.table === 'audit_log')?.rowsLeft).toBeGreaterThan(100);
      // Compared across two connections (verify's snapshot on one, the scratch copy on the other),
      // by the rows' digests: the same counts.
      const across = async () => {
        const other = await app.database.pool.connect();
        try {
          return await inTransaction(
            client,
            () =>
              compareReadModelsAcross(
                { client, schema: 'read_model' },
                { client: other, schema: 'rebuild_check' },
              ),
            'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
          );
        } finally {
          other.release();
        }
      };
      expect(await across()).toEqual(comparison);

      // And the comparison does notice a difference.
      await client.query(
        `BEGIN; SET LOCAL ROLE tenancy_projector; UPDATE rebuild_check.workspaces SET name = 'tampered' WHERE ctid = (SELECT ctid FROM rebuild_check.workspaces LIMIT 1); COMMIT`,
      );
      expect(identical(await compareReadModels(client, 'read_model', 'rebuild_check'))).toBe(false);
      // A row only one side has, on either side, as well as a changed one.
      await client.query(
        `BEGIN; SET LOCAL ROLE tenancy_projector;
         DELETE FROM rebuild_check.audit_log WHERE position = (SELECT min(position) FROM rebuild_check.audit_log);
         INSERT INTO rebuild_check.tenants SELECT (jsonb_populate_record(t, jsonb_build_object('tenant_id', gen_random_uuid(), 'name', t.name || ' again'))).* FROM rebuild_check.tenants t LIMIT 1;
         COMMIT`,
      );
      const differences = await compareReadModels(client, 'read_model', 'rebuild_check');
      expect(differences.filter((table) => table.onlyLeft + table.onlyRight > 0)).toEqual([
        expect.objectContaining({ table: 'tenants', onlyLeft: 0, onlyRight: 1 }),
        expect.objectContaining({ table: 'workspaces', onlyLeft: 1, onlyRight: 1 }),
        expect.objectContaining({ table: 'audit_log', onlyLeft: 1, onlyRight: 0 }),
      ]);
      expect(await across()).toEqual(differences);
    } finally {
      await dropReadModelSchema(client, 'rebuild_check');
      client.release();
    }
  }, 120_000);
});

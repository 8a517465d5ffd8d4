import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { TenantCommandExecutor } from '../../src/application/commands/tenant-command.executor.js';
import { defaultTenantIdFor } from '../../src/application/default-tenant.initializer.js';
import { ConsumerHost } from '../../src/consumers/consumer-host.service.js';
import { rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';
import { AUTH, startTestApp, startTestAppOn, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { buildTree, expectChildrenFirst } from '../support/tenant-trees.js';

const context = () => ({
  actor: 'test',
  correlationId: randomUUID(),
  causationId: randomUUID(),
  now: new Date(),
});

describe('root bootstrap', () => {
  let api: TestApp;
  const workers: TestApp[] = [];

  beforeAll(async () => {
    // One instance serves HTTP only; two others run the consumers, racing for each one.
    api = await startTestApp({ runConsumers: false });
    workers.push(await startTestAppOn(api.database), await startTestAppOn(api.database));
  });
  afterAll(async () => {
    for (const worker of workers) await worker.close();
    await api.close();
  });

  const activeWorkerFor = (consumer: string): TestApp | undefined =>
    workers.find((worker) =>
      worker.app
        .get(ConsumerHost)
        .statuses()
        .some((status) => status.name === consumer && status.state === 'active'),
    );

  const rootCounts = async (tenantIds: string[]) => {
    const streams = await api.database.pool.query<{ stream_name: string; roots: number }>(
      `SELECT stream_name, count(*) FILTER (WHERE event_type = 'WorkspaceCreated' AND (data->>'isRoot')::boolean)::int AS roots
       FROM events WHERE stream_name = ANY ($1) GROUP BY stream_name`,
      [tenantIds.map((id) => `tenant-${id}`)],
    );
    const readModel = await api.database.pool.query<{ tenant_id: string; roots: number }>(
      `SELECT tenant_id, count(*)::int AS roots FROM read_model.workspaces WHERE is_root AND tenant_id = ANY ($1::uuid[]) GROUP BY tenant_id`,
      [tenantIds],
    );
    return { streams: streams.rows, readModel: readModel.rows };
  };

  it('200 tenants created at once, the active instance restarted midway: exactly one root each, in the streams and the read model', async () => {
    const tenantIds = Array.from({ length: 200 }, () => randomUUID());
    const creating = Promise.all(
      tenantIds.map((tenantId) =>
        request(api.server)
          .post('/v1/tenants')
          .set(AUTH)
          .send({ name: `Boot ${tenantId}`, tenantId }),
      ),
    );
    await waitFor(async () => (await rootCounts(tenantIds)).readModel.length > 0, 20_000);
    const active = activeWorkerFor('root-bootstrap');
    expect(active).toBeDefined();
    await active?.close();
    workers.splice(workers.indexOf(active as TestApp), 1);
    workers.push(await startTestAppOn(api.database));
    expect((await creating).map((response) => response.status)).toEqual(tenantIds.map(() => 201));

    await waitFor(async () => (await rootCounts(tenantIds)).readModel.length === 200, 30_000);
    const { streams, readModel } = await rootCounts(tenantIds);
    expect(streams).toHaveLength(200);
    expect(streams.every((stream) => stream.roots === 1)).toBe(true);
    expect(readModel.every((tenant) => tenant.roots === 1)).toBe(true);
    const ids = await api.database.pool.query<{ tenant_id: string; workspace_id: string }>(
      `SELECT tenant_id, workspace_id FROM read_model.workspaces WHERE is_root AND tenant_id = ANY ($1::uuid[])`,
      [tenantIds],
    );
    for (const row of ids.rows) expect(row.workspace_id).toBe(rootWorkspaceIdOf(row.tenant_id));
  });

  it('a replay of the process manager from zero creates no second root', async () => {
    const tenantIds = Array.from({ length: 20 }, () => randomUUID());
    await Promise.all(
      tenantIds.map((tenantId) =>
        request(api.server)
          .post('/v1/tenants')
          .set(AUTH)
          .send({ name: `Again ${tenantId}`, tenantId }),
      ),
    );
    await waitFor(async () => (await rootCounts(tenantIds)).readModel.length === 20, 20_000);
    for (const worker of workers.splice(0)) await worker.close();
    await api.database.pool.query(`DELETE FROM process_checkpoints WHERE process = 'root-bootstrap'`);
    workers.push(await startTestAppOn(api.database));
    const checkpoint = async () =>
      (
        await api.database.pool.query<{ position: string }>(
          `SELECT position FROM process_checkpoints WHERE process = 'root-bootstrap'`,
        )
      ).rows[0]?.position ?? '';
    const lastCreated = (
      await api.runtime.eventStore.readAll({ maxCount: 10_000, filter: { eventTypes: ['TenantCreated'] } })
    ).events.at(-1)?.position;
    await waitFor(async () => (await checkpoint()) >= (lastCreated ?? ''), 20_000);
    const { streams } = await rootCounts(tenantIds);
    expect(streams.every((stream) => stream.roots === 1)).toBe(true);
  });

  it('the root the 201 named, and its children, are read at once with its Min-Position, though another instance bootstraps it after that answer', async () => {
    const reads = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const created = await request(api.app.getHttpServer())
          .post('/v1/tenants')
          .set(AUTH)
          .send({ name: `Root read ${i} ${randomUUID()}` });
        expect(created.status).toBe(201);
        const { tenantId, rootWorkspaceId, position } = created.body as Record<string, string>;
        const children = await request(api.app.getHttpServer())
          .get(`/v1/tenants/${tenantId}/workspaces?parentWorkspaceId=${rootWorkspaceId}`)
          .set(AUTH)
          .set('Min-Position', position!);
        const root = await request(api.app.getHttpServer())
          .get(`/v1/tenants/${tenantId}/workspaces/${rootWorkspaceId}`)
          .set(AUTH)
          .set('Min-Position', position!);
        return [
          root.status,
          root.body.isRoot,
          root.body.parentWorkspaceId,
          children.status,
          children.body.items,
        ];
      }),
    );
    expect(reads).toEqual(Array.from({ length: 20 }, () => [200, true, null, 200, []]));
  });

  it('bootstraps a tenant whose history has no root (imported), and creating a workspace right after a tenant works', async () => {
    const imported = randomUUID();
    await api.runtime.eventStore.appendToStream(
      `tenant-${imported}`,
      [
        {
          type: 'TenantCreated',
          data: { tenantId: imported, name: `Imported ${imported}` },
          metadata: { schemaVersion: 1 },
        },
      ],
      'no_stream',
    );
    await waitFor(async () => (await rootCounts([imported])).readModel.length === 1, 20_000);
    expect((await rootCounts([imported])).streams).toEqual([{ stream_name: `tenant-${imported}`, roots: 1 }]);
  });
});

describe('default tenant', () => {
  it('three instances started at once with TENANCY_DEFAULT_TENANT create it, and its root, exactly once', async () => {
    const first = await startTestApp({ runConsumers: false });
    const name = `Default ${randomUUID()}`;
    try {
      const instances = await Promise.all(
        [1, 2, 3].map(() => startTestAppOn(first.database, { defaultTenant: name })),
      );
      const tenantId = defaultTenantIdFor(name.toLowerCase());
      const { rows } = await first.database.pool.query<{ event_type: string; count: number }>(
        `SELECT event_type, count(*)::int AS count FROM events WHERE stream_name = $1 GROUP BY event_type ORDER BY event_type`,
        [`tenant-${tenantId}`],
      );
      expect(rows).toEqual([
        { event_type: 'TenantCreated', count: 1 },
        { event_type: 'WorkspaceCreated', count: 1 },
      ]);
      for (const instance of instances) await instance.close();
    } finally {
      await first.close();
    }
  });
});

describe('cascade deletion', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ cascadeBatchSize: 100 });
  });
  afterAll(async () => {
    await app.close();
  });

  it('deletes a tenant of 2,000 workspaces nested five deep children-first, the root last, TenantDeleted at the very end', async () => {
    const tenantId = await buildTree(app, [10, 4, 4, 4, 3]);
    const deletion = await request(app.server).delete(`/v1/tenants/${tenantId}`).set(AUTH);
    expect(deletion.status).toBe(202);
    await waitFor(
      // The operator reads a tenant whose deletion completed as status 'deleted'.
      async () =>
        ((await request(app.server).get(`/v1/tenants/${tenantId}`).set(AUTH)).body as { status?: string })
          .status === 'deleted',
      60_000,
    );
    await expectChildrenFirst(app, tenantId);
    const failures = await app.database.pool.query('SELECT * FROM read_model.projection_failures');
    expect(failures.rows).toEqual([]);
    expect(
      app.app
        .get(ConsumerHost)
        .statuses()
        .every((status) => status.state !== 'failed'),
    ).toBe(true);
    const left = await app.database.pool.query(
      'SELECT count(*)::int AS count FROM read_model.workspaces WHERE tenant_id = $1',
      [tenantId],
    );
    expect(left.rows[0]).toEqual({ count: 0 });
  });

  it('a subtree cascade deletes exactly that subtree, children first', async () => {
    const executor = app.app.get(TenantCommandExecutor);
    const tenantId = randomUUID();
    await executor.execute({ type: 'CreateTenant', tenantId, name: `Subtree ${tenantId}` }, context());
    const top = randomUUID();
    const keep = randomUUID();
    await executor.execute({ type: 'CreateWorkspace', tenantId, workspaceId: top, name: 'Top' }, context());
    await executor.execute({ type: 'CreateWorkspace', tenantId, workspaceId: keep, name: 'Keep' }, context());
    let parents: string[] = [top];
    for (let level = 0; level < 3; level++) {
      const next: string[] = [];
      for (const parent of parents) {
        for (let i = 0; i < 3; i++) {
          const id = randomUUID();
          await executor.execute(
            { type: 'CreateWorkspace', tenantId, workspaceId: id, parentWorkspaceId: parent, name: `N${i}` },
            context(),
          );
          next.push(id);
        }
      }
      parents = next;
    }
    const response = await request(app.server)
      .delete(`/v1/tenants/${tenantId}/workspaces/${top}?cascade=true`)
      .set(AUTH);
    expect(response.status).toBe(202);
    // Read at the request's position: a read model still short of the workspaces' creation has no
    // row for the subtree's top either, and that would read as gone too.
    const after = { 'Min-Position': (response.body as { position: string }).position };
    await waitFor(
      async () =>
        // A deleted workspace is gone (410) once its cascade is complete.
        (await request(app.server).get(`/v1/tenants/${tenantId}/workspaces/${top}`).set(AUTH).set(after))
          .status === 410,
      30_000,
    );
    const remaining = await request(app.server)
      .get(`/v1/tenants/${tenantId}/workspaces`)
      .set(AUTH)
      .set(after);
    expect(remaining.body.items.map((item: { name: string }) => item.name).sort()).toEqual(['Keep', 'Root']);
    await expectChildrenFirst(app, tenantId, false);
  });
});

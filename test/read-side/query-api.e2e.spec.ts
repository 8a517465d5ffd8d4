import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import request from 'supertest';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

describe('query API over the read models', () => {
  let app: TestApp;
  const http = () => request(app.server);

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const createTenant = async () => {
    const response = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: `Tenant ${randomUUID()}` });
    expect(response.status).toBe(201);
    return response.body as { tenantId: string; rootWorkspaceId: string; position: string };
  };
  const createWorkspace = async (tenantId: string, name: string, parentWorkspaceId?: string) => {
    const response = await http()
      .post(`/v1/tenants/${tenantId}/workspaces`)
      .set(AUTH)
      .send({ name, ...(parentWorkspaceId ? { parentWorkspaceId } : {}) });
    expect(response.status).toBe(201);
    return response.body as { workspaceId: string; position: string; revision: number };
  };

  it('with Min-Position, a GET right after a POST sees the new workspace in 100 of 100 tries', async () => {
    const tenant = await createTenant();
    let seen = 0;
    for (let i = 0; i < 100; i++) {
      const created = await createWorkspace(tenant.tenantId, `Fresh ${i}`);
      const read = await http()
        .get(`/v1/tenants/${tenant.tenantId}/workspaces/${created.workspaceId}`)
        .set(AUTH)
        .set('Min-Position', created.position);
      if (read.status === 200 && read.body.name === `Fresh ${i}`) seen++;
    }
    expect(seen).toBe(100);
  });

  it('GET a tenant: its fields, workspace count and revision', async () => {
    const tenant = await createTenant();
    const workspace = await createWorkspace(tenant.tenantId, 'Only');
    const response = await http()
      .get(`/v1/tenants/${tenant.tenantId}`)
      .set(AUTH)
      .set('Min-Position', workspace.position);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      tenantId: tenant.tenantId,
      name: expect.stringMatching(/^Tenant /),
      status: 'active',
      rootWorkspaceId: tenant.rootWorkspaceId,
      workspaceCount: 2,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      revision: workspace.revision,
    });
  });

  it('GET a workspace: parent, depth, path from the root, child count', async () => {
    const tenant = await createTenant();
    const a = await createWorkspace(tenant.tenantId, 'A');
    const b = await createWorkspace(tenant.tenantId, 'B', a.workspaceId);
    const response = await http()
      .get(`/v1/tenants/${tenant.tenantId}/workspaces/${a.workspaceId}`)
      .set(AUTH)
      .set('Min-Position', b.position);
    expect(response.body).toEqual({
      workspaceId: a.workspaceId,
      tenantId: tenant.tenantId,
      parentWorkspaceId: tenant.rootWorkspaceId,
      name: 'A',
      isRoot: false,
      depth: 1,
      path: [tenant.rootWorkspaceId, a.workspaceId],
      childCount: 1,
      status: 'live',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      revision: b.revision,
    });
  });

  it('lists every live workspace of a tenant, root included, in stable pages; or the children of one parent', async () => {
    const tenant = await createTenant();
    const parent = await createWorkspace(tenant.tenantId, 'Parent');
    let last = parent;
    for (let i = 0; i < 6; i++)
      last = await createWorkspace(tenant.tenantId, `Child ${i}`, parent.workspaceId);
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `limit=3&cursor=${cursor}` : 'limit=3';
      const response = await http()
        .get(`/v1/tenants/${tenant.tenantId}/workspaces?${query}`)
        .set(AUTH)
        .set('Min-Position', last.position);
      expect(response.status).toBe(200);
      expect(response.body.items.length).toBeLessThanOrEqual(3);
      names.push(...response.body.items.map((item: { name: string }) => item.name));
      cursor = response.body.nextCursor;
    } while (cursor);
    expect(names).toEqual(['Root', 'Parent', ...Array.from({ length: 6 }, (_, i) => `Child ${i}`)]);
    const children = await http()
      .get(`/v1/tenants/${tenant.tenantId}/workspaces?parentWorkspaceId=${parent.workspaceId}`)
      .set(AUTH);
    expect(children.body.items).toHaveLength(6);
    expect(children.body.nextCursor).toBeNull();
  });

  it('lists tenants across the operator scope with a cursor', async () => {
    const created = [await createTenant(), await createTenant(), await createTenant()];
    const last = created[2] as { position: string };
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `limit=2&cursor=${cursor}` : 'limit=2';
      const response = await http().get(`/v1/tenants?${query}`).set(AUTH).set('Min-Position', last.position);
      for (const item of response.body.items as { tenantId: string }[]) {
        expect(seen.has(item.tenantId)).toBe(false);
        seen.add(item.tenantId);
      }
      cursor = response.body.nextCursor;
    } while (cursor);
    for (const tenant of created) expect(seen.has(tenant.tenantId)).toBe(true);
  });

  it('answers 404 for unknown tenants and workspaces, 400 for bad ids, cursors, limits and positions', async () => {
    const tenant = await createTenant();
    const expectCode = async (
      url: string,
      status: number,
      code: string,
      headers: Record<string, string> = {},
    ) => {
      const response = await http().get(url).set(AUTH).set(headers);
      expect({ status: response.status, code: response.body.code }).toEqual({ status, code });
    };
    await expectCode(`/v1/tenants/${randomUUID()}`, 404, 'TENANT_NOT_FOUND');
    await expectCode(`/v1/tenants/${randomUUID()}/workspaces`, 404, 'TENANT_NOT_FOUND');
    await expectCode(
      `/v1/tenants/${tenant.tenantId}/workspaces/${randomUUID()}`,
      404,
      'WORKSPACE_NOT_FOUND',
      {
        'Min-Position': tenant.position,
      },
    );
    await expectCode(
      `/v1/tenants/${tenant.tenantId}/workspaces?parentWorkspaceId=${randomUUID()}`,
      404,
      'WORKSPACE_NOT_FOUND',
      {
        'Min-Position': tenant.position,
      },
    );
    await expectCode('/v1/tenants/not-an-id', 400, 'VALIDATION_FAILED');
    await expectCode('/v1/tenants?limit=501', 400, 'VALIDATION_FAILED');
    await expectCode('/v1/tenants?cursor=bm90LWEtY3Vyc29y', 400, 'VALIDATION_FAILED');
    await expectCode('/v1/tenants', 400, 'VALIDATION_FAILED', { 'Min-Position': 'yesterday' });
  });

  it('a Min-Position the read models cannot reach in time: 503 PROJECTION_LAGGING with Retry-After', async () => {
    // A transaction that holds an id keeps every later commit out of the readers' reach.
    const holder = new pg.Client({ connectionString: app.database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_current_xact_id()');
      const tenant = await createTenant();
      const response = await http().get('/v1/tenants').set(AUTH).set('Min-Position', tenant.position);
      expect(response.status).toBe(503);
      expect(response.body.code).toBe('PROJECTION_LAGGING');
      expect(response.headers['retry-after']).toBe('1');
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });

  it('a Min-Position after the last event of the log is refused at once: 400, not a wait and 503s for ever', async () => {
    const response = await http()
      .get('/v1/tenants')
      .set(AUTH)
      .set('Min-Position', 'ffffffffffffffff-ffffffffffffffff');
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
    expect(response.body.errors).toEqual([
      { field: 'Min-Position', message: 'is after the last event of the log: no write answered it' },
    ]);
  });

  it('a tenant whose deletion completed reads as deleted (its workspaces 404); while deleting it shows its progress', async () => {
    const tenant = await createTenant();
    const one = await createWorkspace(tenant.tenantId, 'One');
    await createWorkspace(tenant.tenantId, 'Two', one.workspaceId);
    const deletion = await http().delete(`/v1/tenants/${tenant.tenantId}`).set(AUTH);
    expect(deletion.status).toBe(202);
    const during = await http()
      .get(`/v1/tenants/${tenant.tenantId}`)
      .set(AUTH)
      .set('Min-Position', deletion.body.position);
    expect(during.status).toBe(200);
    if (during.body.status === 'deleting') {
      expect(during.body.deletion).toEqual({ deleted: expect.any(Number), total: 3 });
    } else {
      expect(during.body.status).toBe('deleted');
    }
    // Once complete, the operator still reads the tenant, as the status resource of its deletion.
    await waitFor(
      async () =>
        ((await http().get(`/v1/tenants/${tenant.tenantId}`).set(AUTH)).body as { status?: string })
          .status === 'deleted',
      10_000,
      50,
    );
    expect((await http().get(`/v1/tenants/${tenant.tenantId}/workspaces`).set(AUTH)).status).toBe(404);
  });

  it('reports the consumers in the readiness check', async () => {
    const ready = await http().get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details.consumers.status).toBe('up');
    expect(Object.keys(ready.body.details.consumers)).toEqual(
      expect.arrayContaining(['tenancy-read-model', 'audit-log', 'root-bootstrap', 'cascade-deletion']),
    );
  });
});

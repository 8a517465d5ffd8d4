import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';
import { AUTH, startTestApp, startTestAppOn, type TestApp } from '../support/test-app.js';
import { CURRENT_SCHEMA_VERSION } from '../../src/tenancy/tenancy.events.js';

describe('tenancy command API', () => {
  let app: TestApp;
  const http = () => request(app.server);

  beforeAll(async () => {
    // The write side alone: no process manager finishing a deletion under a test that needs it pending.
    app = await startTestApp({ runConsumers: false });
  });
  afterAll(async () => {
    await app.close();
  });

  const uniqueName = (label: string) => `${label} ${randomUUID().slice(0, 8)}`;
  const createTenant = async (name = uniqueName('Tenant'), tenantId = randomUUID()) => {
    const response = await http().post('/v1/tenants').set(AUTH).send({ name, tenantId });
    expect(response.status).toBe(201);
    return response.body as {
      tenantId: string;
      rootWorkspaceId: string;
      name: string;
      revision: number;
      position: string;
    };
  };
  const createWorkspace = async (tenantId: string, name: string, parentWorkspaceId?: string) => {
    const response = await http()
      .post(`/v1/tenants/${tenantId}/workspaces`)
      .set(AUTH)
      .send({ name, ...(parentWorkspaceId ? { parentWorkspaceId } : {}) });
    expect(response.status).toBe(201);
    return response.body as { workspaceId: string; revision: number };
  };
  const expectProblem = (response: request.Response, status: number, code: string) => {
    expect({ status: response.status, code: response.body.code }).toEqual({ status, code });
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body.type).toEqual(expect.any(String));
    expect(response.body.title).toEqual(expect.any(String));
  };
  const streamLength = async (tenantId: string): Promise<number> => {
    const { rows } = await app.database.pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM events WHERE stream_name = $1',
      [`tenant-${tenantId}`],
    );
    return rows[0]?.count ?? 0;
  };
  /** The tenant's stream as event types, its root's WorkspaceCreated as 'root'. */
  const rootsAndEvents = async (tenantId: string): Promise<string[]> => {
    const { rows } = await app.database.pool.query<{ event_type: string; root: boolean | null }>(
      `SELECT event_type, (data->>'isRoot')::boolean AS root FROM events
       WHERE stream_name = $1 ORDER BY stream_revision`,
      [`tenant-${tenantId}`],
    );
    return rows.map((row) => (row.root ? 'root' : row.event_type));
  };
  const logLength = async (): Promise<number> => {
    const { rows } = await app.database.pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM events',
    );
    return rows[0]?.count ?? 0;
  };

  describe('authentication', () => {
    it('refuses a request without a key with 401', async () => {
      const response = await http().post('/v1/tenants').send({ name: 'x' });
      expectProblem(response, 401, 'UNAUTHORIZED');
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    });

    it('refuses a wrong key with 401 and changes nothing', async () => {
      const before = await logLength();
      const response = await http()
        .post('/v1/tenants')
        .set('Authorization', 'Bearer not-the-key')
        .send({ name: 'x' });
      expectProblem(response, 401, 'UNAUTHORIZED');
      expect(await logLength()).toBe(before);
    });

    it('leaves health and metrics open', async () => {
      expect((await http().get('/health/live')).status).toBe(200);
      const ready = await http().get('/health/ready');
      // The checks that are down, if any, say which and why.
      expect({ status: ready.status, down: ready.body.error }).toEqual({ status: 200, down: {} });
      expect(ready.body.details.database.status).toBe('up');
      const metrics = await http().get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toContain('tenancy_http_request_duration_seconds');
    });
  });

  describe('POST /v1/tenants', () => {
    it('creates a tenant: 201 with its root id, revision, ETag and position', async () => {
      const tenantId = randomUUID();
      const response = await http().post('/v1/tenants').set(AUTH).send({ name: '  Acme Corp  ', tenantId });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        tenantId,
        name: 'Acme Corp',
        status: 'active',
        rootWorkspaceId: rootWorkspaceIdOf(tenantId),
        revision: 0,
        position: expect.any(String),
      });
      expect(response.headers.etag).toBe('"0"');
    });

    it('generates the tenant id when none is given', async () => {
      const response = await http()
        .post('/v1/tenants')
        .set(AUTH)
        .send({ name: uniqueName('Generated') });
      expect(response.status).toBe(201);
      expect(response.body.tenantId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('the same tenantId with the same name again: 200 with the same body, nothing appended', async () => {
      const tenantId = randomUUID();
      const name = uniqueName('Repeat');
      const first = await http().post('/v1/tenants').set(AUTH).send({ name, tenantId });
      const again = await http().post('/v1/tenants').set(AUTH).send({ name, tenantId });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      const { rows } = await app.database.pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM events WHERE stream_name = $1 AND event_type = 'TenantCreated'`,
        [`tenant-${tenantId}`],
      );
      expect(rows[0]?.count).toBe(1);
    });

    it('with an admin: the revision, ETag and position of the last event appended, and the same again on a repeat', async () => {
      const tenantId = randomUUID();
      const body = { name: uniqueName('Admin'), tenantId, adminUserId: 'ed' };
      const response = await http().post('/v1/tenants').set(AUTH).send(body);
      expect(response.status).toBe(201);
      const stream = await http().get(`/v1/tenants/${tenantId}/events`).set(AUTH);
      const items = stream.body.items as { revision: number; type: string; position: string }[];
      expect(items.map(({ revision, type }) => [revision, type])).toEqual([
        [0, 'TenantCreated'],
        [1, 'MemberAdded'],
        [2, 'RoleGranted'],
      ]);
      expect(response.body).toMatchObject({ revision: 2, position: items[2]!.position });
      expect(response.headers.etag).toBe('"2"');

      const again = await http().post('/v1/tenants').set(AUTH).send(body);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(response.body);
      expect(again.headers.etag).toBe('"2"');
    });

    it('a name held by another tenant, in any case: 409 TENANT_NAME_TAKEN', async () => {
      const name = uniqueName('Taken');
      await createTenant(name);
      const response = await http().post('/v1/tenants').set(AUTH).send({ name: name.toUpperCase() });
      expectProblem(response, 409, 'TENANT_NAME_TAKEN');
    });

    it('the same tenantId with another name: 409 TENANT_ALREADY_EXISTS', async () => {
      const tenant = await createTenant();
      const response = await http()
        .post('/v1/tenants')
        .set(AUTH)
        .send({ name: uniqueName('Other'), tenantId: tenant.tenantId });
      expectProblem(response, 409, 'TENANT_ALREADY_EXISTS');
    });

    it('the same tenantId and name with another adminUserId (or none, or one where there was none): 409 TENANT_ALREADY_EXISTS, nothing appended', async () => {
      const plain = await createTenant();
      const before = await streamLength(plain.tenantId);
      const withAdmin = await http()
        .post('/v1/tenants')
        .set(AUTH)
        .send({ name: plain.name, tenantId: plain.tenantId, adminUserId: 'bob' });
      expectProblem(withAdmin, 409, 'TENANT_ALREADY_EXISTS');
      expect(await streamLength(plain.tenantId)).toBe(before);

      const tenantId = randomUUID();
      const name = uniqueName('Administered');
      const first = await http().post('/v1/tenants').set(AUTH).send({ name, tenantId, adminUserId: 'alice' });
      expect(first.status).toBe(201);
      const created = await streamLength(tenantId);
      const again = await http().post('/v1/tenants').set(AUTH).send({ name, tenantId, adminUserId: 'alice' });
      expect(again.status).toBe(200);
      // (The position is left out: the first answer names the admin's grant, a repeat TenantCreated.)
      expect(again.body).toEqual({ ...first.body, position: expect.any(String) });
      for (const body of [{ adminUserId: 'bob' }, {}]) {
        const other = await http()
          .post('/v1/tenants')
          .set(AUTH)
          .send({ name, tenantId, ...body });
        expectProblem(other, 409, 'TENANT_ALREADY_EXISTS');
      }
      expect(await streamLength(tenantId)).toBe(created);
    });

    it.each([
      ['no name', {}],
      ['an empty name', { name: '   ' }],
      ['a name of 201 characters', { name: 'x'.repeat(201) }],
      ['a control character', { name: 'bad\u0007name' }],
      ['a name that is not a string', { name: 42 }],
      ['a malformed tenantId', { name: 'Fine', tenantId: 'not-a-uuid' }],
      ['an unknown field', { name: 'Fine', plan: 'gold' }],
    ])('refuses %s with 400 VALIDATION_FAILED and appends nothing', async (_label, body) => {
      const before = await logLength();
      const response = await http().post('/v1/tenants').set(AUTH).send(body);
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(await logLength()).toBe(before);
    });

    it('accepts a name of exactly 200 characters', async () => {
      const name = `${randomUUID()}${'n'.repeat(164)}`;
      expect(name).toHaveLength(200);
      expect((await http().post('/v1/tenants').set(AUTH).send({ name })).status).toBe(201);
    });

    it('refuses malformed JSON with 400', async () => {
      const response = await http()
        .post('/v1/tenants')
        .set(AUTH)
        .set('Content-Type', 'application/json')
        .send('{"name": ');
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    });

    it('refuses a body over the size limit with 413', async () => {
      const response = await http()
        .post('/v1/tenants')
        .set(AUTH)
        .send({ name: 'x'.repeat(100_000) });
      expectProblem(response, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('of 100 concurrent creates with one name exactly one wins; the rest get 409', async () => {
      const name = uniqueName('Contested');
      const responses = await Promise.all(
        Array.from({ length: 100 }, () =>
          http().post('/v1/tenants').set(AUTH).send({ name, tenantId: randomUUID() }),
        ),
      );
      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 201)).toHaveLength(1);
      expect(statuses.filter((status) => status === 409)).toHaveLength(99);
      const { rows } = await app.database.pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM events WHERE event_type = 'TenantCreated' AND data->>'name' = $1`,
        [name],
      );
      expect(rows[0]?.count).toBe(1);
    });
  });

  describe('POST /v1/tenants racing on one tenantId', () => {
    it('of 20 concurrent creates of one tenantId under different names one wins, and every losing name is free at once', async () => {
      const tenantId = randomUUID();
      const names = Array.from({ length: 20 }, (_, index) => uniqueName(`RT${index + 1}`));
      const responses = await Promise.all(
        names.map((name) => http().post('/v1/tenants').set(AUTH).send({ name, tenantId })),
      );
      const winners = responses.filter((response) => response.status === 201);
      expect(winners).toHaveLength(1);
      const losers = names.filter((_, index) => responses[index]!.status !== 201);
      for (const [index, response] of responses.entries()) {
        if (response.status !== 201) expectProblem(response, 409, 'TENANT_ALREADY_EXISTS');
        else expect((response.body as { name: string }).name).toBe(names[index]);
      }
      // No tenant bears a losing name: another tenant may take each one now, not minutes later.
      const claims = await Promise.all(
        losers.map((name) => http().post('/v1/tenants').set(AUTH).send({ name })),
      );
      expect(claims.map((claim) => claim.status)).toEqual(losers.map(() => 201));
      // The winner's name stays its own.
      const winnerName = (winners[0]!.body as { name: string }).name;
      expectProblem(
        await http().post('/v1/tenants').set(AUTH).send({ name: winnerName }),
        409,
        'TENANT_NAME_TAKEN',
      );
    });

    it('after 8 concurrent identical creates (201 once, 200 after) the name is held while borne and free once renamed away', async () => {
      const tenantId = randomUUID();
      const name = uniqueName('Echo');
      const responses = await Promise.all(
        Array.from({ length: 8 }, () => http().post('/v1/tenants').set(AUTH).send({ name, tenantId })),
      );
      expect(responses.map((response) => response.status).sort()).toEqual([
        200, 200, 200, 200, 200, 200, 200, 201,
      ]);
      expectProblem(await http().post('/v1/tenants').set(AUTH).send({ name }), 409, 'TENANT_NAME_TAKEN');
      const renamed = await http()
        .patch(`/v1/tenants/${tenantId}`)
        .set(AUTH)
        .send({ name: `${name}2` });
      expect(renamed.status).toBe(200);
      expect((await http().post('/v1/tenants').set(AUTH).send({ name })).status).toBe(201);
      expectProblem(
        await http()
          .post('/v1/tenants')
          .set(AUTH)
          .send({ name: `${name}2` }),
        409,
        'TENANT_NAME_TAKEN',
      );
    });
  });

  describe('DELETE /v1/tenants/{tenantId}', () => {
    it('starts the deletion: 202 deleting with a revision and a position', async () => {
      const tenant = await createTenant();
      const response = await http().delete(`/v1/tenants/${tenant.tenantId}`).set(AUTH);
      expect(response.status).toBe(202);
      expect(response.body).toEqual({
        tenantId: tenant.tenantId,
        status: 'deleting',
        revision: expect.any(Number),
        position: expect.any(String),
      });
    });

    it('an unknown tenant: 404 TENANT_NOT_FOUND', async () => {
      expectProblem(await http().delete(`/v1/tenants/${randomUUID()}`).set(AUTH), 404, 'TENANT_NOT_FOUND');
    });

    it('a malformed id: 400', async () => {
      expectProblem(await http().delete('/v1/tenants/123').set(AUTH), 400, 'VALIDATION_FAILED');
    });
  });

  describe('POST /v1/tenants/{tenantId}/workspaces', () => {
    it('creates a workspace under the root by default: 201', async () => {
      const tenant = await createTenant();
      const response = await http()
        .post(`/v1/tenants/${tenant.tenantId}/workspaces`)
        .set(AUTH)
        .send({ name: 'Engineering' });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        workspaceId: expect.any(String),
        tenantId: tenant.tenantId,
        parentWorkspaceId: tenant.rootWorkspaceId,
        name: 'Engineering',
        isRoot: false,
        revision: expect.any(Number),
        position: expect.any(String),
      });
      expect(response.headers.etag).toBe(`"${response.body.revision}"`);
    });

    it('creating right after the tenant works, and the root exists exactly once', async () => {
      const tenant = await createTenant();
      await createWorkspace(tenant.tenantId, 'First');
      await createWorkspace(tenant.tenantId, 'Second');
      const { rows } = await app.database.pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM events WHERE stream_name = $1 AND event_type = 'WorkspaceCreated' AND (data->>'isRoot')::boolean`,
        [`tenant-${tenant.tenantId}`],
      );
      expect(rows[0]?.count).toBe(1);
    });

    it('creates under a given parent, and a repeat with the same workspaceId is 200 and appends nothing', async () => {
      const tenant = await createTenant();
      const parent = await createWorkspace(tenant.tenantId, 'Parent');
      const workspaceId = randomUUID();
      const body = { name: 'Child', parentWorkspaceId: parent.workspaceId, workspaceId };
      const first = await http().post(`/v1/tenants/${tenant.tenantId}/workspaces`).set(AUTH).send(body);
      expect(first.status).toBe(201);
      expect(first.body.parentWorkspaceId).toBe(parent.workspaceId);
      const length = await streamLength(tenant.tenantId);
      const again = await http().post(`/v1/tenants/${tenant.tenantId}/workspaces`).set(AUTH).send(body);
      expect(again.status).toBe(200);
      expect(await streamLength(tenant.tenantId)).toBe(length);
    });

    it('an unknown tenant: 404 TENANT_NOT_FOUND', async () => {
      const response = await http()
        .post(`/v1/tenants/${randomUUID()}/workspaces`)
        .set(AUTH)
        .send({ name: 'X' });
      expectProblem(response, 404, 'TENANT_NOT_FOUND');
    });

    it('an unknown parent: 404 WORKSPACE_NOT_FOUND', async () => {
      const tenant = await createTenant();
      const response = await http()
        .post(`/v1/tenants/${tenant.tenantId}/workspaces`)
        .set(AUTH)
        .send({ name: 'X', parentWorkspaceId: randomUUID() });
      expectProblem(response, 404, 'WORKSPACE_NOT_FOUND');
    });

    it("a parent of another tenant: 404 WORKSPACE_NOT_FOUND, never confirming the other tenant's id", async () => {
      const mine = await createTenant();
      const theirs = await createTenant();
      const theirWorkspace = await createWorkspace(theirs.tenantId, 'Secret');
      const response = await http()
        .post(`/v1/tenants/${mine.tenantId}/workspaces`)
        .set(AUTH)
        .send({ name: 'X', parentWorkspaceId: theirWorkspace.workspaceId });
      expectProblem(response, 404, 'WORKSPACE_NOT_FOUND');
      const unknown = await http()
        .post(`/v1/tenants/${mine.tenantId}/workspaces`)
        .set(AUTH)
        .send({ name: 'X', parentWorkspaceId: randomUUID() });
      expect(unknown.body.detail?.replace(/[0-9a-f-]{36}/g, 'ID')).toBe(
        response.body.detail?.replace(/[0-9a-f-]{36}/g, 'ID'),
      );
    });

    it('a deleted parent: 404 WORKSPACE_NOT_FOUND', async () => {
      const tenant = await createTenant();
      const gone = await createWorkspace(tenant.tenantId, 'Gone');
      expect(
        (await http().delete(`/v1/tenants/${tenant.tenantId}/workspaces/${gone.workspaceId}`).set(AUTH))
          .status,
      ).toBe(204);
      const response = await http()
        .post(`/v1/tenants/${tenant.tenantId}/workspaces`)
        .set(AUTH)
        .send({ name: 'X', parentWorkspaceId: gone.workspaceId });
      expectProblem(response, 404, 'WORKSPACE_NOT_FOUND');
    });

    it('a sibling name taken, in any case: 409 WORKSPACE_NAME_TAKEN', async () => {
      const tenant = await createTenant();
      await createWorkspace(tenant.tenantId, 'Sales');
      const response = await http()
        .post(`/v1/tenants/${tenant.tenantId}/workspaces`)
        .set(AUTH)
        .send({ name: 'SALES' });
      expectProblem(response, 409, 'WORKSPACE_NAME_TAKEN');
    });

    it('a tenant being deleted: 409 TENANT_DELETING', async () => {
      const tenant = await createTenant();
      await http().delete(`/v1/tenants/${tenant.tenantId}`).set(AUTH);
      const response = await http()
        .post(`/v1/tenants/${tenant.tenantId}/workspaces`)
        .set(AUTH)
        .send({ name: 'Late' });
      expectProblem(response, 409, 'TENANT_DELETING');
    });

    it('a parent being deleted: 409 WORKSPACE_DELETING', async () => {
      const tenant = await createTenant();
      const parent = await createWorkspace(tenant.tenantId, 'Doomed');
      await createWorkspace(tenant.tenantId, 'Child', parent.workspaceId);
      expect(
        (
          await http()
            .delete(`/v1/tenants/${tenant.tenantId}/workspaces/${parent.workspaceId}?cascade=true`)
            .set(AUTH)
        ).status,
      ).toBe(202);
      const response = await http()
        .post(`/v1/tenants/${tenant.tenantId}/workspaces`)
        .set(AUTH)
        .send({ name: 'Late', parentWorkspaceId: parent.workspaceId });
      expectProblem(response, 409, 'WORKSPACE_DELETING');
    });

    it('a malformed tenant id: 400', async () => {
      expectProblem(
        await http().post('/v1/tenants/nope/workspaces').set(AUTH).send({ name: 'X' }),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('of 100 concurrent creates of same-named siblings exactly one wins', async () => {
      const tenant = await createTenant();
      const responses = await Promise.all(
        Array.from({ length: 100 }, () =>
          http().post(`/v1/tenants/${tenant.tenantId}/workspaces`).set(AUTH).send({ name: 'Twin' }),
        ),
      );
      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 201)).toHaveLength(1);
      expect(statuses.filter((status) => status === 409)).toHaveLength(99);
    });

    it('100 concurrent creates with distinct names under one tenant all succeed, none lost', async () => {
      const tenant = await createTenant();
      const responses = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          http()
            .post(`/v1/tenants/${tenant.tenantId}/workspaces`)
            .set(AUTH)
            .send({ name: `Team ${i}` }),
        ),
      );
      expect(responses.map((response) => response.status)).toEqual(Array.from({ length: 100 }, () => 201));
      const { rows } = await app.database.pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM events WHERE stream_name = $1 AND event_type = 'WorkspaceCreated' AND NOT (data->>'isRoot')::boolean`,
        [`tenant-${tenant.tenantId}`],
      );
      expect(rows[0]?.count).toBe(100);
    });
  });

  describe('PATCH /v1/tenants/{tenantId}/workspaces/{workspaceId}', () => {
    it('renames: 200 with the renamed workspace and its new revision', async () => {
      const tenant = await createTenant();
      const workspace = await createWorkspace(tenant.tenantId, 'Old');
      const response = await http()
        .patch(`/v1/tenants/${tenant.tenantId}/workspaces/${workspace.workspaceId}`)
        .set(AUTH)
        .send({ name: 'New' });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        workspaceId: workspace.workspaceId,
        name: 'New',
        revision: workspace.revision + 1,
      });
      expect(response.headers.etag).toBe(`"${workspace.revision + 1}"`);
    });

    it('with the current revision in If-Match: 200; with a stale one: 412 REVISION_MISMATCH and nothing appended', async () => {
      const tenant = await createTenant();
      const workspace = await createWorkspace(tenant.tenantId, 'Tracked');
      const ok = await http()
        .patch(`/v1/tenants/${tenant.tenantId}/workspaces/${workspace.workspaceId}`)
        .set(AUTH)
        .set('If-Match', `"${workspace.revision}"`)
        .send({ name: 'Tracked 2' });
      expect(ok.status).toBe(200);
      const length = await streamLength(tenant.tenantId);
      const stale = await http()
        .patch(`/v1/tenants/${tenant.tenantId}/workspaces/${workspace.workspaceId}`)
        .set(AUTH)
        .set('If-Match', `"${workspace.revision}"`)
        .send({ name: 'Tracked 3' });
      expectProblem(stale, 412, 'REVISION_MISMATCH');
      expect(await streamLength(tenant.tenantId)).toBe(length);
    });

    it('a name taken by a sibling: 409', async () => {
      const tenant = await createTenant();
      await createWorkspace(tenant.tenantId, 'Alpha');
      const beta = await createWorkspace(tenant.tenantId, 'Beta');
      const response = await http()
        .patch(`/v1/tenants/${tenant.tenantId}/workspaces/${beta.workspaceId}`)
        .set(AUTH)
        .send({ name: 'alpha' });
      expectProblem(response, 409, 'WORKSPACE_NAME_TAKEN');
    });

    it('an unknown workspace: 404', async () => {
      const tenant = await createTenant();
      const response = await http()
        .patch(`/v1/tenants/${tenant.tenantId}/workspaces/${randomUUID()}`)
        .set(AUTH)
        .send({ name: 'X' });
      expectProblem(response, 404, 'WORKSPACE_NOT_FOUND');
    });
  });

  describe('DELETE /v1/tenants/{tenantId}/workspaces/{workspaceId}', () => {
    it('a leaf: 204, and again: 404', async () => {
      const tenant = await createTenant();
      const leaf = await createWorkspace(tenant.tenantId, 'Leaf');
      const url = `/v1/tenants/${tenant.tenantId}/workspaces/${leaf.workspaceId}`;
      expect((await http().delete(url).set(AUTH)).status).toBe(204);
      expectProblem(await http().delete(url).set(AUTH), 404, 'WORKSPACE_NOT_FOUND');
    });

    it('with live children: 409 WORKSPACE_HAS_CHILDREN; with cascade: 202 deleting', async () => {
      const tenant = await createTenant();
      const parent = await createWorkspace(tenant.tenantId, 'Parent');
      await createWorkspace(tenant.tenantId, 'Child', parent.workspaceId);
      const url = `/v1/tenants/${tenant.tenantId}/workspaces/${parent.workspaceId}`;
      expectProblem(await http().delete(url).set(AUTH), 409, 'WORKSPACE_HAS_CHILDREN');
      const cascade = await http().delete(`${url}?cascade=true`).set(AUTH);
      expect(cascade.status).toBe(202);
      expect(cascade.body).toMatchObject({ status: 'deleting', position: expect.any(String) });
    });

    it('the root: 409 ROOT_WORKSPACE_UNDELETABLE', async () => {
      const tenant = await createTenant();
      await createWorkspace(tenant.tenantId, 'Anything');
      const response = await http()
        .delete(`/v1/tenants/${tenant.tenantId}/workspaces/${tenant.rootWorkspaceId}`)
        .set(AUTH);
      expectProblem(response, 409, 'ROOT_WORKSPACE_UNDELETABLE');
    });

    it('an unknown workspace: 404', async () => {
      const tenant = await createTenant();
      expectProblem(
        await http().delete(`/v1/tenants/${tenant.tenantId}/workspaces/${randomUUID()}`).set(AUTH),
        404,
        'WORKSPACE_NOT_FOUND',
      );
    });
  });

  describe('the root workspace before its bootstrap (no process manager runs in this file)', () => {
    it('a read of the root the 201 named is 503 PROJECTION_LAGGING with Retry-After, not 404: it exists, the read model has yet to show it', async () => {
      const created = await http()
        .post('/v1/tenants')
        .set(AUTH)
        .send({ name: uniqueName('Unread root') });
      expect(created.status).toBe(201);
      const { tenantId, rootWorkspaceId } = created.body as { tenantId: string; rootWorkspaceId: string };
      const read = await http().get(`/v1/tenants/${tenantId}/workspaces/${rootWorkspaceId}`).set(AUTH);
      expectProblem(read, 503, 'PROJECTION_LAGGING');
      expect(read.headers['retry-after']).toBe('1');
      // Any other workspace the log does not hold is still not found.
      const other = await http().get(`/v1/tenants/${tenantId}/workspaces/${randomUUID()}`).set(AUTH);
      expectProblem(other, 404, 'WORKSPACE_NOT_FOUND');
    }, 20_000);

    it('a grant, a key and a check on the root the 201 named are answered; the first write creates the root, once', async () => {
      const created = await http()
        .post('/v1/tenants')
        .set(AUTH)
        .send({ name: uniqueName('Early'), adminUserId: 'early-admin' });
      expect(created.status).toBe(201);
      const { tenantId, rootWorkspaceId } = created.body as { tenantId: string; rootWorkspaceId: string };
      const tenant = `/v1/tenants/${tenantId}`;
      const admin = { type: 'user', id: 'early-admin' };

      const check = await http()
        .post(`${tenant}/permissions/check`)
        .set(AUTH)
        .send({ principal: admin, permission: 'workspace.write', workspaceId: rootWorkspaceId });
      expect({ status: check.status, allowed: check.body.allowed, role: check.body.role }).toEqual({
        status: 200,
        allowed: true,
        role: 'admin',
      });
      const stranger = await http()
        .post(`${tenant}/permissions/check`)
        .set(AUTH)
        .send({
          principal: { type: 'user', id: 'nobody' },
          permission: 'workspace.read',
          workspaceId: rootWorkspaceId,
        });
      expect({ status: stranger.status, allowed: stranger.body.allowed }).toEqual({
        status: 200,
        allowed: false,
      });
      expect(await streamLength(tenantId)).toBe(3); // TenantCreated, MemberAdded, RoleGranted: a check writes nothing

      const grant = await http()
        .post(`${tenant}/grants`)
        .set(AUTH)
        .send({ principal: admin, role: 'viewer', workspaceId: rootWorkspaceId });
      expect(grant.status).toBe(201);
      const again = await http()
        .post(`${tenant}/grants`)
        .set(AUTH)
        .send({
          principal: { type: 'group', id: randomUUID() },
          role: 'viewer',
          workspaceId: rootWorkspaceId,
        });
      expectProblem(again, 404, 'GROUP_NOT_FOUND');
      expect(await rootsAndEvents(tenantId)).toEqual([
        'TenantCreated',
        'MemberAdded',
        'RoleGranted',
        'root',
        'RoleGranted',
      ]);

      // A key scoped to the root, as the first write of another tenant.
      const other = await createTenant();
      const key = await http()
        .post(`/v1/tenants/${other.tenantId}/api-keys`)
        .set(AUTH)
        .send({ role: 'reader', workspaceId: other.rootWorkspaceId, name: 'early' });
      expect(key.status).toBe(201);
      expect(await rootsAndEvents(other.tenantId)).toEqual(['TenantCreated', 'root', 'ApiKeyIssued']);
    });
  });

  describe('GET /v1/tenants/{tenantId}/events', () => {
    it("pages through one tenant's stream in order with revisions, positions and metadata", async () => {
      const tenant = await createTenant();
      for (const name of ['A', 'B', 'C', 'D']) await createWorkspace(tenant.tenantId, name);
      const first = await http().get(`/v1/tenants/${tenant.tenantId}/events?limit=3`).set(AUTH);
      expect(first.status).toBe(200);
      expect(first.body.items.map((item: { revision: number }) => item.revision)).toEqual([0, 1, 2]);
      expect(first.body.items[0]).toMatchObject({
        type: 'TenantCreated',
        data: { tenantId: tenant.tenantId },
        metadata: {
          actor: 'operator',
          schemaVersion: CURRENT_SCHEMA_VERSION,
          correlationId: expect.any(String),
          causationId: expect.any(String),
        },
        position: tenant.position,
        recordedAt: expect.any(String),
      });
      expect(Date.parse(first.body.items[0].metadata.occurredAt)).not.toBeNaN();
      expect(first.body.next).toBe(2);
      const second = await http().get(`/v1/tenants/${tenant.tenantId}/events?after=2&limit=3`).set(AUTH);
      expect(second.body.items.map((item: { revision: number }) => item.revision)).toEqual([3, 4, 5]);
      expect(second.body.next).toBeNull();
      // At the end: nothing yet. Past it: a revision no event of the stream had, whose events would
      // be skipped once written, so it is refused rather than answered with nothing.
      const atEnd = await http().get(`/v1/tenants/${tenant.tenantId}/events?after=5`).set(AUTH);
      expect({ status: atEnd.status, body: atEnd.body }).toEqual({
        status: 200,
        body: { items: [], next: null },
      });
      const pastEnd = await http().get(`/v1/tenants/${tenant.tenantId}/events?after=6`).set(AUTH);
      expectProblem(pastEnd, 400, 'VALIDATION_FAILED');
      expect(pastEnd.body.errors).toEqual([
        { field: 'after', message: "is after the stream's last revision (5)" },
      ]);
    });

    it('an unknown tenant: 404; a bad limit: 400', async () => {
      expectProblem(
        await http().get(`/v1/tenants/${randomUUID()}/events`).set(AUTH),
        404,
        'TENANT_NOT_FOUND',
      );
      const tenant = await createTenant();
      expectProblem(
        await http().get(`/v1/tenants/${tenant.tenantId}/events?limit=0`).set(AUTH),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await http().get(`/v1/tenants/${tenant.tenantId}/events?limit=abc`).set(AUTH),
        400,
        'VALIDATION_FAILED',
      );
    });
  });

  it('carries the correlation id a client sends into the metadata', async () => {
    const correlationId = `corr-${randomUUID()}`;
    const response = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .set('X-Correlation-Id', correlationId)
      .send({ name: uniqueName('Corr') });
    const { rows } = await app.database.pool.query<{ metadata: { correlationId: string } }>(
      'SELECT metadata FROM events WHERE stream_name = $1',
      [`tenant-${response.body.tenantId}`],
    );
    expect(rows[0]?.metadata.correlationId).toBe(correlationId);
  });
});

describe('tenancy command API across two service instances', () => {
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    first = await startTestApp();
    second = await startTestAppOn(first.database);
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  it('100 concurrent creates with distinct names spread over both instances all succeed, gap-free', async () => {
    const tenant = await request(first.server)
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: `Shared ${randomUUID()}` });
    const tenantId = tenant.body.tenantId as string;
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        request(i % 2 === 0 ? first.server : second.server)
          .post(`/v1/tenants/${tenantId}/workspaces`)
          .set(AUTH)
          .send({ name: `Unit ${i}` }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array.from({ length: 100 }, () => 201));
    const { rows } = await first.database.pool.query<{ revisions: number[] }>(
      `SELECT array_agg(stream_revision::int ORDER BY stream_revision) AS revisions FROM events WHERE stream_name = $1`,
      [`tenant-${tenantId}`],
    );
    // TenantCreated, the root created on demand, then the 100 workspaces.
    expect(rows[0]?.revisions).toEqual(Array.from({ length: 102 }, (_, i) => i));
  });

  it('of 100 concurrent same-named creates over both instances exactly one wins', async () => {
    const name = `Rivals ${randomUUID()}`;
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        request(i % 2 === 0 ? first.server : second.server)
          .post('/v1/tenants')
          .set(AUTH)
          .send({ name }),
      ),
    );
    expect(responses.filter((response) => response.status === 201)).toHaveLength(1);
    expect(responses.filter((response) => response.status === 409)).toHaveLength(99);
  });
});

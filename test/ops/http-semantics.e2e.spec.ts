import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { MAX_NAME_LENGTH } from '../../src/tenancy/resource-name.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

interface ProblemBody {
  readonly code: string;
  readonly detail?: string;
  readonly errors?: { field: string; message: string }[];
}

describe('HTTP semantics', () => {
  let app: TestApp;
  const http = () => request(app.server);
  const problemOf = (response: request.Response, status: number, code: string): ProblemBody => {
    expect({ status: response.status, code: (response.body as ProblemBody).code }).toEqual({ status, code });
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    return response.body as ProblemBody;
  };
  const createTenant = async () => {
    const response = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: `Semantics ${randomUUID()}` });
    expect(response.status).toBe(201);
    return response.body as { tenantId: string; rootWorkspaceId: string; position: string };
  };
  const createWorkspace = async (tenantId: string, parentWorkspaceId?: string) => {
    const response = await http()
      .post(`/v1/tenants/${tenantId}/workspaces`)
      .set(AUTH)
      .send({ name: `W ${randomUUID()}`, ...(parentWorkspaceId ? { parentWorkspaceId } : {}) });
    expect(response.status).toBe(201);
    return response.body as { workspaceId: string; revision: number; position: string };
  };

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('a body that is not JSON: 415, and nothing is created', async () => {
    const name = `Plain ${randomUUID()}`;
    const response = await http().post('/v1/tenants').set(AUTH).set('Content-Type', 'text/plain').send(name);
    problemOf(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(response.headers['accept-post']).toBe('application/json');
    const list = await http().get('/v1/tenants?limit=500').set(AUTH);
    expect(JSON.stringify(list.body)).not.toContain(name);
  });

  it('a method the path does not serve: 405 with Allow; an unknown path stays 404', async () => {
    const put = await http().put('/v1/tenants').set(AUTH).send({ name: 'x' });
    problemOf(put, 405, 'METHOD_NOT_ALLOWED');
    expect(put.headers.allow).toBe('GET, HEAD, POST');
    const tenant = await http().put(`/v1/tenants/${randomUUID()}`).set(AUTH).send({});
    problemOf(tenant, 405, 'METHOD_NOT_ALLOWED');
    expect(tenant.headers.allow).toBe('DELETE, GET, HEAD, PATCH');
    problemOf(await http().get('/v1/nothing-here').set(AUTH), 404, 'ROUTE_NOT_FOUND');
  });

  it('malformed JSON: a problem that says the JSON is malformed', async () => {
    const response = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .set('Content-Type', 'application/json')
      .send('{"name": "unterminated');
    const body = problemOf(response, 400, 'MALFORMED_BODY');
    expect(body.detail).toBe('The request body is not well-formed JSON.');
    expect(body.errors).toBeUndefined();
  });

  it('a missing field "is required", a body that is not an object "must be a JSON object", a wrong type says so', async () => {
    expect(
      problemOf(await http().post('/v1/tenants').set(AUTH).send({}), 400, 'VALIDATION_FAILED').errors,
    ).toEqual([{ field: 'name', message: 'is required' }]);
    for (const body of [[], ['name'], 'a string', 7]) {
      const response = await http()
        .post('/v1/tenants')
        .set(AUTH)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(body));
      expect(problemOf(response, 400, 'VALIDATION_FAILED').errors).toEqual([
        { field: '(body)', message: 'must be a JSON object' },
      ]);
    }
    expect(
      problemOf(await http().post('/v1/tenants').set(AUTH).send({ name: 5 }), 400, 'VALIDATION_FAILED')
        .errors,
    ).toEqual([{ field: 'name', message: 'must be a string' }]);
    const unknown = await http().post('/v1/tenants').set(AUTH).send({ name: 'x', colour: 'red' });
    expect(problemOf(unknown, 400, 'VALIDATION_FAILED').errors).toEqual([
      { field: 'colour', message: 'is not allowed' },
    ]);
  });

  it('__proto__ and constructor are fields like any other: not allowed, at any depth of a body or in a query, and nothing is written', async () => {
    const name = `Reserved ${randomUUID()}`;
    for (const key of ['__proto__', 'constructor']) {
      // Sent as text: an object literal with these keys would not hold them as its own properties.
      const response = await http()
        .post('/v1/tenants')
        .set(AUTH)
        .set('Content-Type', 'application/json')
        .send(`{"name": ${JSON.stringify(name)}, "${key}": {"name": "other"}}`);
      expect(problemOf(response, 400, 'VALIDATION_FAILED').errors).toEqual([
        { field: key, message: 'is not allowed' },
      ]);
    }
    const query = await http().get('/v1/tenants?limit=5&constructor=1').set(AUTH);
    expect(problemOf(query, 400, 'VALIDATION_FAILED').errors).toEqual([
      { field: 'constructor', message: 'is not allowed' },
    ]);
    const listed = await http().get('/v1/tenants?limit=100').set(AUTH);
    expect((listed.body as { items: { name: string }[] }).items.map((tenant) => tenant.name)).not.toContain(
      name,
    );
    const { tenantId, rootWorkspaceId } = await createTenant();
    const check = (principal: string, extra: string) =>
      `{"checks": [{"principal": ${principal}, "permission": "workspace.read", "workspaceId": "${rootWorkspaceId}"${extra}}]}`;
    for (const [body, field] of [
      [check('{"type": "user", "id": "u1", "__proto__": {}}', ''), 'checks.0.principal.__proto__'],
      [check('{"type": "user", "id": "u1"}', ', "constructor": 1'), 'checks.0.constructor'],
    ] as const) {
      const response = await http()
        .post(`/v1/tenants/${tenantId}/permissions/check`)
        .set(AUTH)
        .set('Content-Type', 'application/json')
        .send(body);
      expect(problemOf(response, 400, 'VALIDATION_FAILED').errors).toEqual([
        { field, message: 'is not allowed' },
      ]);
    }
  });

  it('every 400 VALIDATION_FAILED names its fields in `errors`, the rules the domain and the headers check included', async () => {
    const { tenantId, rootWorkspaceId } = await createTenant();
    const tenant = `/v1/tenants/${tenantId}`;
    const cases: [request.Test, { field: string; message: string }[]][] = [
      [
        http().post('/v1/tenants').set(AUTH).send({ name: '   ' }),
        [{ field: 'name', message: 'must be 1 to 200 characters long after trimming (got 0)' }],
      ],
      [
        http().put(`${tenant}/quotas`).set(AUTH).send({ maxWorkspaces: -1 }),
        [{ field: 'maxWorkspaces', message: 'must be null or a whole number from 0 to 10000000' }],
      ],
      [
        http().post(`${tenant}/suspend`).set(AUTH).send({ reason: ' ' }),
        [{ field: 'reason', message: 'must be 1 to 500 characters long after trimming' }],
      ],
      [
        http().put(`${tenant}/members/u1`).set(AUTH).send({ displayName: 'Ann\u202e' }),
        [
          {
            field: 'displayName',
            message:
              'must not contain bidirectional controls or invisible characters such as zero-width spaces',
          },
        ],
      ],
      [
        http().get('/v1/tenants?cursor=zzzz').set(AUTH),
        [{ field: 'cursor', message: 'is not one this service handed out' }],
      ],
      [
        http().get(`${tenant}`).set(AUTH).set('Min-Position', 'abc'),
        [{ field: 'Min-Position', message: 'must be a position from a write response' }],
      ],
      [
        http().get('/v1/events?after=zzz').set(AUTH),
        [{ field: 'after', message: 'must be a position from the log' }],
      ],
      [
        http().get(`${tenant}/principals/robot/x/workspaces?permission=workspace.read`).set(AUTH),
        [{ field: 'principalType', message: "must be 'user', 'group' or 'apiKey'" }],
      ],
      [
        http()
          .post(`${tenant}/permissions/check`)
          .set(AUTH)
          .send({
            permission: 'workspace.read',
            checks: [
              {
                principal: { type: 'user', id: 'u1' },
                permission: 'workspace.read',
                workspaceId: rootWorkspaceId,
              },
            ],
          }),
        [{ field: 'checks', message: 'cannot come with principal, permission or workspaceId' }],
      ],
    ];
    for (const [sent, errors] of cases) {
      const response = await sent;
      expect({
        url: response.request.url,
        errors: problemOf(response, 400, 'VALIDATION_FAILED').errors,
      }).toEqual({
        url: response.request.url,
        errors,
      });
    }
  });

  it('a field inside a list or an object is named by its whole path', async () => {
    const { tenantId, rootWorkspaceId } = await createTenant();
    const response = await http()
      .post(`/v1/tenants/${tenantId}/permissions/check`)
      .set(AUTH)
      .send({
        checks: [
          {
            principal: { type: 'user', id: 'u1' },
            permission: 'workspace.read',
            workspaceId: rootWorkspaceId,
          },
          {
            principal: { type: 'user', id: 'u2', colour: 'red' },
            permission: 'workspace.read',
            workspaceId: rootWorkspaceId,
            size: 1,
          },
        ],
      });
    expect(problemOf(response, 400, 'VALIDATION_FAILED').errors).toEqual([
      { field: 'checks.1.size', message: 'is not allowed' },
      { field: 'checks.1.principal.colour', message: 'is not allowed' },
    ]);
  });

  it("the DTO's name limit is the domain's, and a non-number limit gets one message", async () => {
    const tooLong = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: 'x'.repeat(MAX_NAME_LENGTH + 1) });
    expect(problemOf(tooLong, 400, 'VALIDATION_FAILED').errors).toEqual([
      { field: 'name', message: `must be shorter than or equal to ${MAX_NAME_LENGTH} characters` },
    ]);
    const longest = `${randomUUID()}${'x'.repeat(MAX_NAME_LENGTH - 36)}`;
    expect((await http().post('/v1/tenants').set(AUTH).send({ name: longest })).status).toBe(201);
    const limit = await http().get('/v1/tenants?limit=abc').set(AUTH);
    expect(problemOf(limit, 400, 'VALIDATION_FAILED').errors).toEqual([
      { field: 'limit', message: 'must be an integer number' },
    ]);
  });

  it('one wording per error code: a missing tenant reads the same from the read side and from a command', async () => {
    const missing = randomUUID();
    const read = problemOf(await http().get(`/v1/tenants/${missing}`).set(AUTH), 404, 'TENANT_NOT_FOUND');
    const command = problemOf(
      await http().post(`/v1/tenants/${missing}/workspaces`).set(AUTH).send({ name: 'w' }),
      404,
      'TENANT_NOT_FOUND',
    );
    expect(command.detail).toBe(read.detail);
    expect(read.detail).toBe(`No tenant ${missing}.`);
  });

  it('single-resource GETs carry ETag and answer a matching If-None-Match with 304', async () => {
    const tenant = await createTenant();
    const workspace = await createWorkspace(tenant.tenantId);
    const tenantPath = `/v1/tenants/${tenant.tenantId}`;
    const workspacePath = `${tenantPath}/workspaces/${workspace.workspaceId}`;
    for (const path of [tenantPath, workspacePath]) {
      const first = await http().get(path).set(AUTH).set('Min-Position', workspace.position);
      expect(first.status).toBe(200);
      expect(first.headers.etag).toBe(`"${workspace.revision}"`);
      const again = await http()
        .get(path)
        .set(AUTH)
        .set('If-None-Match', first.headers.etag as string);
      expect(again.status).toBe(304);
      expect(again.text ?? '').toBe('');
      expect(again.headers.etag).toBe(first.headers.etag);
      const weak = await http()
        .get(path)
        .set(AUTH)
        .set('If-None-Match', `W/${first.headers.etag as string}`);
      expect(weak.status).toBe(304);
    }
    const renamed = await http()
      .patch(workspacePath)
      .set(AUTH)
      .send({ name: `Renamed ${randomUUID()}` });
    const changed = await http()
      .get(workspacePath)
      .set(AUTH)
      .set('Min-Position', (renamed.body as { position: string }).position)
      .set('If-None-Match', `"${workspace.revision}"`);
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).toBe(`"${workspace.revision + 1}"`);
  });

  it('If-Match compares strongly: a weak tag is 412, a tag without quotes 400, the current strong tag succeeds', async () => {
    const tenant = await createTenant();
    const workspace = await createWorkspace(tenant.tenantId);
    const path = `/v1/tenants/${tenant.tenantId}/workspaces/${workspace.workspaceId}`;
    const rename = (ifMatch: string) =>
      http()
        .patch(path)
        .set(AUTH)
        .set('If-Match', ifMatch)
        .send({ name: `N ${randomUUID()}` });
    problemOf(await rename(`W/"${workspace.revision}"`), 412, 'REVISION_MISMATCH');
    problemOf(await rename(String(workspace.revision)), 400, 'VALIDATION_FAILED');
    expect((await rename(`"${workspace.revision}"`)).status).toBe(200);
  });

  describe.each([
    ['a tenant', 'tenant'],
    ['a workspace', 'workspace'],
    ['a group', 'group'],
  ] as const)('If-Match on the rename of %s', (_label, kind) => {
    /** The resource's path and the revision its tenant stream is at. */
    const renamable = async (): Promise<{ path: string; revision: number }> => {
      const tenant = await createTenant();
      // Creates the root on demand too, so the root's bootstrap appends nothing after it.
      const workspace = await createWorkspace(tenant.tenantId);
      if (kind === 'tenant') return { path: `/v1/tenants/${tenant.tenantId}`, revision: workspace.revision };
      if (kind === 'workspace') {
        return {
          path: `/v1/tenants/${tenant.tenantId}/workspaces/${workspace.workspaceId}`,
          revision: workspace.revision,
        };
      }
      const group = await http()
        .post(`/v1/tenants/${tenant.tenantId}/groups`)
        .set(AUTH)
        .send({ name: `G ${randomUUID()}` });
      expect(group.status).toBe(201);
      const { groupId, revision } = group.body as { groupId: string; revision: number };
      return { path: `/v1/tenants/${tenant.tenantId}/groups/${groupId}`, revision };
    };
    const rename = (path: string, ifMatch: string) =>
      http()
        .patch(path)
        .set(AUTH)
        .set('If-Match', ifMatch)
        .send({ name: `N ${randomUUID()}` });
    /** Every event of the log: a refused rename writes none, name reservations included. */
    const logLength = async (): Promise<number> => {
      const { rows } = await app.database.pool.query<{ count: number }>(
        'SELECT count(*)::int AS count FROM events',
      );
      return rows[0]?.count ?? 0;
    };

    it('a stale or weak tag is 412 REVISION_MISMATCH, one without quotes 400, and nothing is written', async () => {
      const { path, revision } = await renamable();
      const before = await logLength();
      problemOf(await rename(path, `"${revision + 999}"`), 412, 'REVISION_MISMATCH');
      problemOf(await rename(path, `W/"${revision}"`), 412, 'REVISION_MISMATCH');
      const malformed = problemOf(await rename(path, 'garbage'), 400, 'VALIDATION_FAILED');
      expect(malformed.errors).toEqual([{ field: 'If-Match', message: 'must be an entity tag such as "3"' }]);
      problemOf(await rename(path, String(revision)), 400, 'VALIDATION_FAILED');
      expect(await logLength()).toBe(before);
    });

    it('the current strong tag renames: 200 with the next revision as ETag', async () => {
      const { path, revision } = await renamable();
      const renamed = await rename(path, `"${revision}"`);
      expect(renamed.status).toBe(200);
      expect(renamed.headers.etag).toBe(`"${revision + 1}"`);
      problemOf(await rename(path, `"${revision}"`), 412, 'REVISION_MISMATCH');
    });
  });

  it("a tenant deletion's 202 names its status resource, which the operator can still read once the tenant is deleted", async () => {
    const tenant = await createTenant();
    await createWorkspace(tenant.tenantId);
    const deletion = await http().delete(`/v1/tenants/${tenant.tenantId}`).set(AUTH);
    expect(deletion.status).toBe(202);
    const location = deletion.headers.location as string;
    expect(location).toBe(`/v1/tenants/${tenant.tenantId}`);
    await waitFor(
      async () => {
        const status = await http().get(location).set(AUTH);
        return status.status === 200 && (status.body as { status: string }).status === 'deleted';
      },
      30_000,
      50,
    );
  });

  it("a cascading workspace deletion's 202 names the workspace, which reads 'deleting' and then 410 Gone", async () => {
    const tenant = await createTenant();
    const top = await createWorkspace(tenant.tenantId);
    await createWorkspace(tenant.tenantId, top.workspaceId);
    const deletion = await http()
      .delete(`/v1/tenants/${tenant.tenantId}/workspaces/${top.workspaceId}?cascade=true`)
      .set(AUTH);
    expect(deletion.status).toBe(202);
    const location = deletion.headers.location as string;
    expect(location).toBe(`/v1/tenants/${tenant.tenantId}/workspaces/${top.workspaceId}`);
    await waitFor(async () => (await http().get(location).set(AUTH)).status === 410, 30_000, 50);
    problemOf(await http().get(location).set(AUTH), 410, 'WORKSPACE_DELETED');
  });
});

import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { MAX_NAME_LENGTH } from '../../src/tenancy/resource-name.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

interface ProblemBody {
  readonly code: string;
  readonly detail?: string;
  readonly currentRevision?: number | null;
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

  /** The bytes exactly as given (supertest would serialise a Buffer as JSON), with these headers. */
  const sendBytes = async (method: string, path: string, headers: Record<string, string>, body: Buffer) => {
    if (!app.server.listening) await new Promise<void>((resolve) => app.server.listen(0, resolve));
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}${path}`;
    return fetch(url, { method, headers: { ...AUTH, ...headers }, body });
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

  it('JSON in another charset than UTF-8 (UTF-16, a UTF-7 body nested past the limit, Latin-1): the same 415, and nothing is created', async () => {
    const { tenantId } = await createTenant();
    const keys = async () => (await http().get(`/v1/tenants/${tenantId}/api-keys`).set(AUTH)).body as unknown;
    const keysBefore = await keys();
    // UTF-7 may spell brackets in base64 (`+AFs-`): no `[` byte for a check of the raw bytes to see.
    const utf7 = (text: string) =>
      `+${Buffer.from(text, 'utf16le').swap16().toString('base64').replace(/=+$/, '')}-`;
    const send = (charset: string, bytes: Buffer) =>
      sendBytes(
        'POST',
        `/v1/tenants/${tenantId}/api-keys`,
        { 'Content-Type': `application/json; charset=${charset}` },
        bytes,
      );
    for (const [charset, bytes] of [
      ['utf-16le', Buffer.from(JSON.stringify({ role: 'reader' }), 'utf16le')],
      [
        'utf-7',
        Buffer.from(`{"role": "reader", "name": ${utf7('['.repeat(9_000))}${utf7(']'.repeat(9_000))}}`),
      ],
      ['latin1', Buffer.from(JSON.stringify({ role: 'reader' }))],
    ] as const) {
      const response = await send(charset, bytes);
      expect({
        charset,
        status: response.status,
        accepts: response.headers.get('accept-post'),
        body: await response.json(),
      }).toEqual({
        charset,
        status: 415,
        accepts: 'application/json',
        body: expect.objectContaining({
          code: 'UNSUPPORTED_MEDIA_TYPE',
          detail: 'Request bodies must be JSON in UTF-8, sent with Content-Type: application/json.',
        }),
      });
    }
    expect(await keys()).toEqual(keysBefore);
    for (const charset of ['utf-8', 'UTF-8']) {
      const response = await send(charset, Buffer.from(JSON.stringify({ role: 'reader' })));
      expect({ charset, status: response.status }).toEqual({ charset, status: 201 });
    }
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

  it('a member named twice in one object, however its name is spelled: MALFORMED_BODY naming it, and nothing is written', async () => {
    // A proxy or a log that reads the first `role` would see a reader key; JSON.parse keeps the last.
    const { tenantId, rootWorkspaceId } = await createTenant();
    const keysBefore = await http().get(`/v1/tenants/${tenantId}/api-keys`).set(AUTH);
    const post = (path: string, body: string) =>
      http().post(path).set(AUTH).set('Content-Type', 'application/json').send(body);
    const name = `Twice ${randomUUID()}`;
    for (const [path, body, member] of [
      [`/v1/tenants/${tenantId}/api-keys`, '{"role": "reader", "role": "admin"}', 'role'],
      ['/v1/tenants', `{"name": "${name}", "n\\u0061me": "${name} 2"}`, 'name'],
      [
        `/v1/tenants/${tenantId}/permissions/check`,
        `{"checks": [{"principal": {"type": "user", "id": "u1", "id": "u2"}, "permission": "workspace.read", "workspaceId": "${rootWorkspaceId}"}]}`,
        'id',
      ],
    ] as const) {
      const refused = problemOf(await post(path, body), 400, 'MALFORMED_BODY');
      expect(refused.detail).toBe(`The request body names the member "${member}" twice in one object.`);
    }
    const keysAfter = await http().get(`/v1/tenants/${tenantId}/api-keys`).set(AUTH);
    expect(keysAfter.body).toEqual(keysBefore.body);
    const listed = await http().get('/v1/tenants?limit=500').set(AUTH);
    expect(JSON.stringify(listed.body)).not.toContain(name);
    // The same name in different objects, or as a value, is no repetition.
    const checks = await post(
      `/v1/tenants/${tenantId}/permissions/check`,
      JSON.stringify({
        checks: ['u1', 'u2'].map((id) => ({
          principal: { type: 'user', id },
          permission: 'workspace.read',
          workspaceId: rootWorkspaceId,
        })),
      }),
    );
    expect(checks.status).toBe(200);
    const key = await post(`/v1/tenants/${tenantId}/api-keys`, '{"role": "reader", "name": "role"}');
    expect(key.status).toBe(201);
  });

  it('a body that cannot be read as UTF-8 JSON (a broken gzip or brotli stream, bytes that are not UTF-8): MALFORMED_BODY, and nothing is created', async () => {
    const name = `Unreadable ${randomUUID()}`;
    const attempts = [
      { encoding: 'gzip', bytes: Buffer.from(JSON.stringify({ name })) },
      { encoding: 'br', bytes: Buffer.from(JSON.stringify({ name })) },
      {
        encoding: 'identity',
        bytes: Buffer.concat([Buffer.from(`{"name":"${name}`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
      },
    ];
    for (const { encoding, bytes } of attempts) {
      const response = await sendBytes(
        'POST',
        '/v1/tenants',
        { 'Content-Type': 'application/json', 'Content-Encoding': encoding },
        bytes,
      );
      const body = (await response.json()) as ProblemBody;
      expect({ encoding, status: response.status, body }).toEqual({
        encoding,
        status: 400,
        body: expect.objectContaining({
          code: 'MALFORMED_BODY',
          // In the service's own words, not the decompressor's ("incorrect header check").
          detail:
            encoding === 'identity'
              ? 'The request body is not valid UTF-8.'
              : 'The request body does not decode as its Content-Encoding says.',
        }),
      });
      expect(body.errors).toBeUndefined();
    }
    const list = await http().get('/v1/tenants?limit=500').set(AUTH);
    expect(JSON.stringify(list.body)).not.toContain(name);
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
        http()
          .post('/v1/tenants')
          .set(AUTH)
          .send({ name: `Admin ${randomUUID()}`, adminUserId: 'bad id!' }),
        [{ field: 'adminUserId', message: 'must be 1 to 255 characters of A-Z, a-z, 0-9 and . _ : @ | -' }],
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
        http().get(`${tenant}/members/ann%E0%A4%A`).set(AUTH),
        [{ field: 'userId', message: 'is not valid percent-encoding' }],
      ],
      // The rule in the same words as in a body (adminUserId) and in the problem's detail.
      [
        http().get(`${tenant}/members/bad%20id`).set(AUTH),
        [{ field: 'userId', message: 'must be 1 to 255 characters of A-Z, a-z, 0-9 and . _ : @ | -' }],
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
      [
        http().post(`${tenant}/permissions/check`).set(AUTH).send({ checks: {} }),
        [{ field: 'checks', message: 'must be an array' }],
      ],
      [
        http().post(`${tenant}/permissions/check`).set(AUTH).send({ checks: 'all' }),
        [{ field: 'checks', message: 'must be an array' }],
      ],
      // A group's or an API key's id is a UUID: a malformed one is refused, not looked up as unknown.
      [
        http()
          .post(`${tenant}/permissions/check`)
          .set(AUTH)
          .send({ principal: { type: 'group', id: 'not-a-uuid' }, permission: 'workspace.read' }),
        [{ field: 'principal.id', message: 'must be a UUID for a group or an API key' }],
      ],
      [
        http()
          .post(`${tenant}/permissions/check`)
          .set(AUTH)
          .send({
            checks: [
              { principal: { type: 'user', id: 'not-a-uuid' }, permission: 'workspace.read' },
              { principal: { type: 'apiKey', id: 'not-a-uuid' }, permission: 'workspace.read' },
            ],
          }),
        [{ field: 'checks.1.principal.id', message: 'must be a UUID for a group or an API key' }],
      ],
      [
        http()
          .post(`${tenant}/grants`)
          .set(AUTH)
          .send({ principal: { type: 'group', id: 'not-a-uuid' }, role: 'viewer' }),
        [{ field: 'principal.id', message: 'must be a UUID for a group or an API key' }],
      ],
      [
        http().get(`${tenant}/principals/group/not-a-uuid/workspaces?permission=workspace.read`).set(AUTH),
        [{ field: 'principalId', message: 'must be a UUID for a group or an API key' }],
      ],
      [
        http().get(`${tenant}/grants?principalType=apiKey&principalId=not-a-uuid`).set(AUTH),
        [{ field: 'principalId', message: 'must be a UUID for a group or an API key' }],
      ],
      [
        http().get(`${tenant}/grants?principalId=a%20b`).set(AUTH),
        [{ field: 'principalId', message: 'must be 1 to 255 characters of A-Z, a-z, 0-9 and . _ : @ | -' }],
      ],
      [
        http().post(`${tenant}/permissions/check`).set(AUTH).send({ checks: null }),
        [{ field: 'checks', message: 'must be an array' }],
      ],
      [
        http().post(`${tenant}/permissions/check`).set(AUTH).send({ checks: [] }),
        [{ field: 'checks', message: 'must hold at least one check' }],
      ],
      [
        http()
          .post(`${tenant}/permissions/check`)
          .set(AUTH)
          .send({
            checks: Array.from({ length: 1_001 }, () => ({
              principal: { type: 'user', id: 'u1' },
              permission: 'workspace.read',
            })),
          }),
        [{ field: 'checks', message: 'must hold at most 1000 checks' }],
      ],
      [
        http()
          .post(`${tenant}/permissions/check`)
          .set(AUTH)
          .send({ checks: [[]] }),
        [{ field: 'checks', message: 'must be a list of objects' }],
      ],
      [
        http()
          .post(`${tenant}/permissions/check`)
          .set(AUTH)
          .send({ checks: [1] }),
        [{ field: 'checks', message: 'must be a list of objects' }],
      ],
      [
        http()
          .post(`${tenant}/permissions/check`)
          .set(AUTH)
          .send({ principal: [], permission: 'workspace.read' }),
        [{ field: 'principal', message: 'must be an object' }],
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

  it("a name's length is the domain's rule, after trimming, in the domain's words wherever a name, a reason or a user id is sent", async () => {
    const { tenantId, rootWorkspaceId } = await createTenant();
    const tenant = `/v1/tenants/${tenantId}`;
    const tooLong = (length: number) =>
      `must be 1 to ${MAX_NAME_LENGTH} characters long after trimming (got ${length})`;
    const userIdRule = 'must be 1 to 255 characters of A-Z, a-z, 0-9 and . _ : @ | -';
    const name = (length: number) => 'x'.repeat(length);
    const cases: [request.Test, string, string][] = [
      [
        http()
          .post('/v1/tenants')
          .send({ name: name(MAX_NAME_LENGTH + 1) }),
        'name',
        tooLong(201),
      ],
      [
        http()
          .post('/v1/tenants')
          .send({ name: name(5_000) }),
        'name',
        tooLong(5_000),
      ],
      [
        http()
          .patch(tenant)
          .send({ name: name(MAX_NAME_LENGTH + 1) }),
        'name',
        tooLong(201),
      ],
      [
        http()
          .post(`${tenant}/workspaces`)
          .send({ name: name(MAX_NAME_LENGTH + 1) }),
        'name',
        tooLong(201),
      ],
      [
        http()
          .patch(`${tenant}/workspaces/${rootWorkspaceId}`)
          .send({ name: name(MAX_NAME_LENGTH + 1) }),
        'name',
        tooLong(201),
      ],
      [
        http()
          .post(`${tenant}/api-keys`)
          .send({ role: 'reader', name: name(MAX_NAME_LENGTH + 1) }),
        'name',
        tooLong(201),
      ],
      [
        http()
          .post(`${tenant}/groups`)
          .send({ name: name(2_000) }),
        'name',
        tooLong(2_000),
      ],
      [
        http()
          .put(`${tenant}/members/u-long`)
          .send({ displayName: name(2_000) }),
        'displayName',
        `must be 1 to ${MAX_NAME_LENGTH} characters long after trimming (got 2000)`,
      ],
      [
        http()
          .post(`${tenant}/suspend`)
          .send({ reason: name(3_000) }),
        'reason',
        'must be 1 to 500 characters long after trimming',
      ],
      [
        http()
          .post('/v1/tenants')
          .send({ name: `Long admin ${randomUUID()}`, adminUserId: name(256) }),
        'adminUserId',
        userIdRule,
      ],
    ];
    for (const [sent, field, message] of cases) {
      const response = await sent.set(AUTH);
      expect({ field, errors: problemOf(response, 400, 'VALIDATION_FAILED').errors }).toEqual({
        field,
        errors: [{ field, message }],
      });
    }
    // Measured after trimming, as the rule says: padding around the longest name is no refusal.
    const longest = `${randomUUID()}${'x'.repeat(MAX_NAME_LENGTH - 36)}`;
    const padded = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: `  ${longest}  ` });
    expect({ status: padded.status, name: padded.body.name }).toEqual({ status: 201, name: longest });
    const workspace = await http()
      .post(`${tenant}/workspaces`)
      .set(AUTH)
      .send({ name: ` ${'w'.repeat(MAX_NAME_LENGTH)} ` });
    expect(workspace.status).toBe(201);
  });

  it('a non-number limit gets one message', async () => {
    const limit = await http().get('/v1/tenants?limit=abc').set(AUTH);
    expect(problemOf(limit, 400, 'VALIDATION_FAILED').errors).toEqual([
      { field: 'limit', message: 'must be an integer number' },
    ]);
  });

  it('a query parameter given twice says so, whatever its values, and is not read as either', async () => {
    // A proxy may read the first, Express makes a list of both: neither is taken.
    for (const query of ['limit=1&limit=2', 'limit=1&limit=1', 'limit=abc&limit=5']) {
      const response = await http().get(`/v1/tenants?${query}`).set(AUTH);
      expect({ query, errors: problemOf(response, 400, 'VALIDATION_FAILED').errors }).toEqual({
        query,
        errors: [{ field: 'limit', message: 'must be given once' }],
      });
    }
    const twice = await http().get('/v1/tenants?cursor=a&cursor=b&limit=x').set(AUTH);
    expect(problemOf(twice, 400, 'VALIDATION_FAILED').errors).toEqual([
      { field: 'cursor', message: 'must be given once' },
      { field: 'limit', message: 'must be an integer number' },
    ]);
    // An id the access check reads from the query is checked before the rest, as its own.
    const { tenantId, rootWorkspaceId } = await createTenant();
    const parent = `parentWorkspaceId=${rootWorkspaceId}`;
    const workspaces = await http().get(`/v1/tenants/${tenantId}/workspaces?${parent}&${parent}`).set(AUTH);
    expect(problemOf(workspaces, 400, 'VALIDATION_FAILED').errors).toEqual([
      { field: 'parentWorkspaceId', message: 'must be given once' },
    ]);
    const undeclared = await http().get('/v1/tenants?foo=1&foo=2&limit=2').set(AUTH);
    expect(problemOf(undeclared, 400, 'VALIDATION_FAILED').errors).toEqual([
      { field: 'foo', message: 'is not allowed' },
    ]);
  });

  it('Min-Position is checked on every route, those whose answers are always current and the writes included: a value that is not a position is 400 there too, and changes nothing', async () => {
    const { tenantId, position } = await createTenant();
    const tenant = `/v1/tenants/${tenantId}`;
    const requests: [string, () => request.Test][] = [
      ['GET api-keys', () => http().get(`${tenant}/api-keys`)],
      ['GET quotas', () => http().get(`${tenant}/quotas`)],
      ['GET events', () => http().get(`${tenant}/events`)],
      ['GET the feed', () => http().get('/v1/events')],
      [
        'POST workspaces',
        () =>
          http()
            .post(`${tenant}/workspaces`)
            .send({ name: `Held ${randomUUID()}` }),
      ],
    ];
    let written = position;
    for (const [label, make] of requests) {
      const refused = await make().set(AUTH).set('Min-Position', 'undefined');
      expect({ label, status: refused.status }).toEqual({ label, status: 400 });
      expect(problemOf(refused, 400, 'VALIDATION_FAILED').errors).toEqual([
        { field: 'Min-Position', message: 'must be a position from a write response' },
      ]);
      // A position a write answered is taken: these answers already include it.
      const taken = await make().set(AUTH).set('Min-Position', position);
      expect({ label, status: taken.status }).toEqual({
        label,
        status: label.startsWith('POST') ? 201 : 200,
      });
      if (label.startsWith('POST')) written = (taken.body as { position: string }).position;
    }
    // Only the write sent with a good position was made: read at that write's own position, since
    // the tenant's is before it and a read model may not have the workspace yet.
    const workspaces = await http().get(`${tenant}/workspaces`).set(AUTH).set('Min-Position', written);
    expect(
      (workspaces.body as { items: { name: string }[] }).items.filter((w) => w.name.startsWith('Held ')),
    ).toHaveLength(1);
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

  it('a single-resource GET honours If-Match too: the current tag or * answers, a stale or weak one is 412 naming the revision, a broken one 400', async () => {
    const tenant = await createTenant();
    const workspace = await createWorkspace(tenant.tenantId);
    const tenantPath = `/v1/tenants/${tenant.tenantId}`;
    const workspacePath = `${tenantPath}/workspaces/${workspace.workspaceId}`;
    const current = `"${workspace.revision}"`;
    const get = (path: string, ifMatch: string, ifNoneMatch?: string) => {
      const pending = http()
        .get(path)
        .set(AUTH)
        .set('Min-Position', workspace.position)
        .set('If-Match', ifMatch);
      return ifNoneMatch === undefined ? pending : pending.set('If-None-Match', ifNoneMatch);
    };
    for (const path of [tenantPath, workspacePath]) {
      for (const ifMatch of [current, '*', `"0", ${current}`]) {
        const response = await get(path, ifMatch);
        expect({ path, ifMatch, status: response.status, etag: response.headers.etag }).toEqual({
          path,
          ifMatch,
          status: 200,
          etag: current,
        });
      }
      for (const ifMatch of ['"0"', `W/${current}`, '"abc"']) {
        const response = await get(path, ifMatch);
        expect({ path, ifMatch, status: response.status }).toEqual({ path, ifMatch, status: 412 });
        expect(problemOf(response, 412, 'REVISION_MISMATCH').currentRevision).toBe(workspace.revision);
      }
      expect(problemOf(await get(path, 'garbage'), 400, 'VALIDATION_FAILED').errors).toEqual([
        { field: 'If-Match', message: 'must be an entity tag such as "3"' },
      ]);
      // If-Match is evaluated first (RFC 9110 13.2.2): a stale one is 412 even where If-None-Match
      // would answer 304, and a matching one leaves If-None-Match its say.
      expect((await get(path, '"0"', current)).status).toBe(412);
      expect((await get(path, current, current)).status).toBe(304);
    }
  });

  /**
   * Every write on a tenant's stream, set up afresh: the request with a given If-Match, the
   * revision the tenant stream is at just before it, and the status it answers when it applies.
   */
  interface ConditionalWrite {
    readonly tenantId: string;
    readonly revision: number;
    readonly send: (ifMatch: string) => request.Test;
  }
  /** A tenant with one workspace below its root; `write` sends a change and keeps its revision. */
  const prepared = async () => {
    const tenant = await createTenant();
    // Creates the root on demand too, so the root's bootstrap appends nothing after it.
    const workspace = await createWorkspace(tenant.tenantId);
    const base = `/v1/tenants/${tenant.tenantId}`;
    let revision = workspace.revision;
    const write = async (method: 'post' | 'put', path: string, body: object = {}) => {
      const response = await http()[method](`${base}${path}`).set(AUTH).send(body);
      expect([200, 201]).toContain(response.status);
      revision = (response.body as { revision: number }).revision;
      return response.body as Record<string, string>;
    };
    return {
      tenantId: tenant.tenantId,
      workspaceId: workspace.workspaceId,
      base,
      write,
      revision: () => revision,
    };
  };
  const userId = () => `user-${randomUUID()}`;
  const conditional = (
    setup: Awaited<ReturnType<typeof prepared>>,
    send: (ifMatch: string) => request.Test,
  ): ConditionalWrite => ({ tenantId: setup.tenantId, revision: setup.revision(), send });
  const on = (test: request.Test, ifMatch: string) => test.set(AUTH).set('If-Match', ifMatch);

  /** 'creates': the write adds what it names, so `If-Match: *` holds only once it exists (RFC 9110 13.1.1). */
  const WRITES: readonly (readonly [string, number, () => Promise<ConditionalWrite>, 'creates'?])[] = [
    [
      'PATCH a tenant (rename)',
      200,
      async () => {
        const t = await prepared();
        return conditional(t, (m) => on(http().patch(t.base), m).send({ name: `N ${randomUUID()}` }));
      },
    ],
    [
      'POST …/suspend',
      200,
      async () => {
        const t = await prepared();
        return conditional(t, (m) => on(http().post(`${t.base}/suspend`), m).send({ reason: 'unpaid' }));
      },
    ],
    [
      'POST …/reactivate',
      200,
      async () => {
        const t = await prepared();
        await t.write('post', '/suspend', { reason: 'unpaid' });
        return conditional(t, (m) => on(http().post(`${t.base}/reactivate`), m));
      },
    ],
    [
      'PUT …/quotas',
      200,
      async () => {
        const t = await prepared();
        return conditional(t, (m) => on(http().put(`${t.base}/quotas`), m).send({ maxWorkspaces: 50 }));
      },
    ],
    [
      'DELETE a tenant',
      202,
      async () => {
        const t = await prepared();
        return conditional(t, (m) => on(http().delete(t.base), m));
      },
    ],
    [
      'POST …/workspaces (create)',
      201,
      async () => {
        const t = await prepared();
        return conditional(t, (m) =>
          on(http().post(`${t.base}/workspaces`), m).send({ name: `W ${randomUUID()}` }),
        );
      },
    ],
    [
      'PATCH a workspace (rename)',
      200,
      async () => {
        const t = await prepared();
        return conditional(t, (m) =>
          on(http().patch(`${t.base}/workspaces/${t.workspaceId}`), m).send({ name: `N ${randomUUID()}` }),
        );
      },
    ],
    [
      'POST …/workspaces/{w}/move',
      200,
      async () => {
        const t = await prepared();
        const { workspaceId: parentWorkspaceId } = await t.write('post', '/workspaces', {
          name: `P ${randomUUID()}`,
        });
        return conditional(t, (m) =>
          on(http().post(`${t.base}/workspaces/${t.workspaceId}/move`), m).send({ parentWorkspaceId }),
        );
      },
    ],
    [
      'DELETE a workspace',
      204,
      async () => {
        const t = await prepared();
        return conditional(t, (m) => on(http().delete(`${t.base}/workspaces/${t.workspaceId}`), m));
      },
    ],
    [
      'DELETE a workspace ?cascade=true',
      202,
      async () => {
        const t = await prepared();
        await t.write('post', '/workspaces', { name: `C ${randomUUID()}`, parentWorkspaceId: t.workspaceId });
        return conditional(t, (m) =>
          on(http().delete(`${t.base}/workspaces/${t.workspaceId}?cascade=true`), m),
        );
      },
    ],
    [
      // A member that exists: `If-Match: *` on one that does not is 412 (membership-api.e2e).
      'PUT a member',
      200,
      async () => {
        const t = await prepared();
        const user = userId();
        await t.write('put', `/members/${user}`);
        return conditional(t, (m) =>
          on(http().put(`${t.base}/members/${user}`), m).send({ displayName: `Ada ${randomUUID()}` }),
        );
      },
    ],
    [
      'DELETE a member',
      204,
      async () => {
        const t = await prepared();
        const user = userId();
        await t.write('put', `/members/${user}`);
        return conditional(t, (m) => on(http().delete(`${t.base}/members/${user}`), m));
      },
    ],
    [
      'POST …/members/{u}/erase',
      200,
      async () => {
        const t = await prepared();
        const user = userId();
        await t.write('put', `/members/${user}`, { displayName: 'Ada' });
        return conditional(t, (m) => on(http().post(`${t.base}/members/${user}/erase`), m));
      },
    ],
    [
      'POST …/groups (create)',
      201,
      async () => {
        const t = await prepared();
        return conditional(t, (m) =>
          on(http().post(`${t.base}/groups`), m).send({ name: `G ${randomUUID()}` }),
        );
      },
    ],
    [
      'PATCH a group (rename)',
      200,
      async () => {
        const t = await prepared();
        const { groupId } = await t.write('post', '/groups', { name: `G ${randomUUID()}` });
        return conditional(t, (m) =>
          on(http().patch(`${t.base}/groups/${groupId}`), m).send({ name: `N ${randomUUID()}` }),
        );
      },
    ],
    [
      'DELETE a group',
      204,
      async () => {
        const t = await prepared();
        const { groupId } = await t.write('post', '/groups', { name: `G ${randomUUID()}` });
        return conditional(t, (m) => on(http().delete(`${t.base}/groups/${groupId}`), m));
      },
    ],
    [
      'PUT a group member',
      201,
      async () => {
        const t = await prepared();
        const user = userId();
        await t.write('put', `/members/${user}`);
        const { groupId } = await t.write('post', '/groups', { name: `G ${randomUUID()}` });
        return conditional(t, (m) => on(http().put(`${t.base}/groups/${groupId}/members/${user}`), m));
      },
      'creates',
    ],
    [
      'DELETE a group member',
      204,
      async () => {
        const t = await prepared();
        const user = userId();
        await t.write('put', `/members/${user}`);
        const { groupId } = await t.write('post', '/groups', { name: `G ${randomUUID()}` });
        await t.write('put', `/groups/${groupId}/members/${user}`);
        return conditional(t, (m) => on(http().delete(`${t.base}/groups/${groupId}/members/${user}`), m));
      },
    ],
    [
      'POST …/grants',
      201,
      async () => {
        const t = await prepared();
        const user = userId();
        await t.write('put', `/members/${user}`);
        return conditional(t, (m) =>
          on(http().post(`${t.base}/grants`), m).send({
            principal: { type: 'user', id: user },
            role: 'viewer',
          }),
        );
      },
    ],
    [
      'DELETE a grant',
      204,
      async () => {
        const t = await prepared();
        const user = userId();
        await t.write('put', `/members/${user}`);
        const { grantId } = await t.write('post', '/grants', {
          principal: { type: 'user', id: user },
          role: 'viewer',
        });
        return conditional(t, (m) => on(http().delete(`${t.base}/grants/${grantId}`), m));
      },
    ],
    [
      'POST …/api-keys',
      201,
      async () => {
        const t = await prepared();
        return conditional(t, (m) => on(http().post(`${t.base}/api-keys`), m).send({ role: 'reader' }));
      },
    ],
    [
      'DELETE an API key',
      204,
      async () => {
        const t = await prepared();
        const { apiKeyId } = await t.write('post', '/api-keys', { role: 'reader' });
        return conditional(t, (m) => on(http().delete(`${t.base}/api-keys/${apiKeyId}`), m));
      },
    ],
  ];

  describe.each(WRITES)('If-Match on %s', (_route, applied, setUp, creates) => {
    /** The events a refused write must not add: its tenant's stream and every tenant name reservation. */
    const eventsOf = async (tenantId: string): Promise<number> => {
      const { rows } = await app.database.pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM events WHERE stream_name = $1 OR stream_name LIKE 'tenantname-%'`,
        [`tenant-${tenantId}`],
      );
      return rows[0]?.count ?? 0;
    };

    it('a stale, weak or foreign tag is 412 REVISION_MISMATCH, a broken header 400, and nothing is written', async () => {
      const { tenantId, revision, send } = await setUp();
      const before = await eventsOf(tenantId);
      problemOf(await send(`"${revision - 1}"`), 412, 'REVISION_MISMATCH');
      problemOf(await send(`"${revision + 999}"`), 412, 'REVISION_MISMATCH');
      // A tag that could never match is refused like a stale one: with the revision to use instead.
      for (const never of [`W/"${revision}"`, '"abc"', `"0${revision}"`, `W/"${revision}", "x"`]) {
        const refused = problemOf(await send(never), 412, 'REVISION_MISMATCH') as ProblemBody & {
          currentRevision?: number;
        };
        expect(refused.currentRevision).toBe(revision);
      }
      for (const broken of [
        'garbage',
        String(revision),
        `"${revision}`,
        `"${revision}" "0"`,
        `*, "${revision}"`,
      ]) {
        const malformed = problemOf(await send(broken), 400, 'VALIDATION_FAILED');
        expect(malformed.errors?.map((error) => error.field)).toEqual(['If-Match']);
      }
      expect(await eventsOf(tenantId)).toBe(before);
    });

    it.each([
      ['the current tag', (revision: number) => `"${revision}"`],
      [
        'a list that holds the current tag',
        (revision: number) => `"0", W/"${revision}", "abc", "${revision}"`,
      ],
    ])('%s applies it', async (_label, tag) => {
      const { tenantId, revision, send } = await setUp();
      const before = await eventsOf(tenantId);
      const response = await send(tag(revision));
      expect(response.status).toBe(applied);
      expect(await eventsOf(tenantId)).toBeGreaterThan(before);
      expect(Number(JSON.parse(response.headers.etag as string))).toBeGreaterThan(revision);
    });

    it(`* ${creates ? 'is 412 PRECONDITION_FAILED while what the write adds is not there' : 'applies it'}`, async () => {
      const { tenantId, send } = await setUp();
      const before = await eventsOf(tenantId);
      const response = await send('*');
      if (creates) problemOf(response, 412, 'PRECONDITION_FAILED');
      else expect(response.status).toBe(applied);
      expect((await eventsOf(tenantId)) > before).toBe(!creates);
    });

    it('the tag a write applied at is stale once it has: the same request again is 412', async () => {
      const { revision, send } = await setUp();
      expect((await send(`"${revision}"`)).status).toBe(applied);
      problemOf(await send(`"${revision}"`), 412, 'REVISION_MISMATCH');
    });
  });

  it("a deletion's 202 carries the revision its ETag names and the position, as every write answer does", async () => {
    const tenant = await createTenant();
    const top = await createWorkspace(tenant.tenantId);
    await createWorkspace(tenant.tenantId, top.workspaceId);
    const workspace = await http()
      .delete(`/v1/tenants/${tenant.tenantId}/workspaces/${top.workspaceId}?cascade=true`)
      .set(AUTH);
    const deletion = await http().delete(`/v1/tenants/${tenant.tenantId}`).set(AUTH);
    for (const response of [workspace, deletion]) {
      expect(response.status).toBe(202);
      const body = response.body as { revision?: unknown; position?: unknown };
      expect(body).toMatchObject({ revision: expect.any(Number), position: expect.any(String) });
      expect(response.headers.etag).toBe(`"${String(body.revision)}"`);
    }
  });

  /** Each path, sent with a cursor of another listing, is refused as a foreign cursor. */
  const expectForeignCursorAt = async (paths: readonly string[]) => {
    for (const elsewhere of paths) {
      const response = await http().get(elsewhere).set(AUTH);
      expect({ elsewhere, errors: problemOf(response, 400, 'VALIDATION_FAILED').errors }).toEqual({
        elsewhere,
        errors: [{ field: 'cursor', message: 'is not one this service handed out' }],
      });
    }
  };

  it('a page cursor is good for the list and filters that handed it out only: elsewhere it is refused, not read as a place in another list', async () => {
    const one = await createTenant();
    const other = await createTenant();
    const parent = await createWorkspace(one.tenantId);
    for (let i = 0; i < 2; i++) await createWorkspace(one.tenantId);
    for (let i = 0; i < 2; i++) await createWorkspace(one.tenantId, parent.workspaceId);
    const listing = `/v1/tenants/${one.tenantId}/workspaces`;
    // The read model has every workspace once a page of the parent's children shows both.
    await waitFor(
      async () =>
        ((await http().get(`${listing}?parentWorkspaceId=${parent.workspaceId}`).set(AUTH)).body.items ?? [])
          .length === 2,
      10_000,
    );
    const first = await http().get(`${listing}?limit=1`).set(AUTH);
    const cursor = first.body.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    // Where it came from, it goes on.
    expect((await http().get(`${listing}?limit=1&cursor=${cursor}`).set(AUTH)).status).toBe(200);
    await expectForeignCursorAt([
      `/v1/tenants/${other.tenantId}/workspaces?cursor=${cursor}`,
      `${listing}?parentWorkspaceId=${parent.workspaceId}&cursor=${cursor}`,
      `/v1/tenants/${one.tenantId}/members?cursor=${cursor}`,
      `/v1/tenants/${one.tenantId}/groups?cursor=${cursor}`,
      `/v1/tenants/${one.tenantId}/grants?cursor=${cursor}`,
      `/v1/tenants?cursor=${cursor}`,
    ]);
  });

  it("the permission lists' cursors too are good for the principal, permission and workspace that handed them out only", async () => {
    const tenant = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: `Cursors ${randomUUID()}`, adminUserId: 'ann' });
    const { tenantId, rootWorkspaceId } = tenant.body as { tenantId: string; rootWorkspaceId: string };
    const base = `/v1/tenants/${tenantId}`;
    const a = await createWorkspace(tenantId);
    await createWorkspace(tenantId);
    expect((await http().put(`${base}/members/bea`).set(AUTH).send({})).status).toBe(201);
    const granted = await http()
      .post(`${base}/grants`)
      .set(AUTH)
      .send({ principal: { type: 'user', id: 'bea' }, role: 'viewer' });
    const at = { 'Min-Position': granted.body.position as string };
    const reach = `${base}/principals/user/ann/workspaces?permission=workspace.read&limit=1`;
    const reachCursor = (await http().get(reach).set(AUTH).set(at)).body.nextCursor as string;
    const access = `${base}/workspaces/${rootWorkspaceId}/access?limit=1`;
    const accessCursor = (await http().get(access).set(AUTH).set(at)).body.nextCursor as string;
    expect([reachCursor, accessCursor]).toEqual([expect.any(String), expect.any(String)]);
    expect((await http().get(`${reach}&cursor=${reachCursor}`).set(AUTH)).status).toBe(200);
    expect((await http().get(`${access}&cursor=${accessCursor}`).set(AUTH)).status).toBe(200);
    await expectForeignCursorAt([
      `${base}/principals/user/bea/workspaces?permission=workspace.read&cursor=${reachCursor}`,
      `${base}/principals/user/ann/workspaces?permission=workspace.write&cursor=${reachCursor}`,
      `${base}/workspaces/${a.workspaceId}/access?cursor=${accessCursor}`,
      `${base}/workspaces/${rootWorkspaceId}/access?cursor=${reachCursor}`,
    ]);
  });

  it("every creation's 201 names in Location a resource that a GET answers with what was created (Min-Position: the write's)", async () => {
    const tenant = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: `Located ${randomUUID()}`, adminUserId: 'ann' });
    const tenantId = tenant.body.tenantId as string;
    const base = `/v1/tenants/${tenantId}`;
    const workspace = await http().post(`${base}/workspaces`).set(AUTH).send({ name: 'W' });
    const group = await http().post(`${base}/groups`).set(AUTH).send({ name: 'G' });
    const member = await http().put(`${base}/members/bea`).set(AUTH).send({});
    const key = await http().post(`${base}/api-keys`).set(AUTH).send({ role: 'reader', name: 'K' });
    const grant = await http()
      .post(`${base}/grants`)
      .set(AUTH)
      .send({
        principal: { type: 'user', id: 'bea' },
        role: 'editor',
        workspaceId: workspace.body.workspaceId,
      });
    const created: [request.Response, Record<string, unknown>][] = [
      [tenant, { tenantId }],
      [workspace, { workspaceId: workspace.body.workspaceId }],
      [group, { groupId: group.body.groupId }],
      [member, { userId: 'bea' }],
      [key, { apiKeyId: key.body.apiKeyId, name: 'K', role: 'reader' }],
      [grant, { grantId: grant.body.grantId, role: 'editor', principal: { type: 'user', id: 'bea' } }],
    ];
    for (const [response, identity] of created) {
      expect(response.status).toBe(201);
      const location = response.headers.location as string;
      const read = await http()
        .get(location)
        .set(AUTH)
        .set('Min-Position', response.body.position as string);
      expect({ location, status: read.status, body: read.body as unknown }).toEqual({
        location,
        status: 200,
        body: expect.objectContaining(identity),
      });
    }
    // The key's secret is shown once, by its issue, and never read back.
    const keyRead = await http()
      .get(key.headers.location as string)
      .set(AUTH);
    expect(keyRead.body).not.toHaveProperty('secret');
    // Unknown ones are 404 with their own code.
    problemOf(await http().get(`${base}/api-keys/${randomUUID()}`).set(AUTH), 404, 'API_KEY_NOT_FOUND');
    problemOf(await http().get(`${base}/grants/${randomUUID()}`).set(AUTH), 404, 'GRANT_NOT_FOUND');

    // A PUT's 201 without Location created its own URL, which a GET reads too.
    const joined = await http().put(`${base}/groups/${group.body.groupId}/members/bea`).set(AUTH);
    expect({ status: joined.status, location: joined.headers.location }).toEqual({
      status: 201,
      location: undefined,
    });
    const membership = await http()
      .get(`${base}/groups/${group.body.groupId}/members/bea`)
      .set(AUTH)
      .set('Min-Position', joined.body.position as string);
    expect({ status: membership.status, body: membership.body as unknown }).toEqual({
      status: 200,
      body: { userId: 'bea', displayName: null, addedAt: expect.any(String) },
    });
    problemOf(
      await http().get(`${base}/groups/${group.body.groupId}/members/ann`).set(AUTH),
      404,
      'NOT_IN_GROUP',
    );
    problemOf(
      await http().get(`${base}/groups/${group.body.groupId}/members/cy`).set(AUTH),
      404,
      'MEMBER_NOT_FOUND',
    );
    problemOf(
      await http().get(`${base}/groups/${randomUUID()}/members/bea`).set(AUTH),
      404,
      'GROUP_NOT_FOUND',
    );
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

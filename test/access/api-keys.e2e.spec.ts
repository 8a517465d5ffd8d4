import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadEventSchemaValidator } from '../events/event-schema.validator.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { accessFixture, bearer } from './access-fixture.js';

describe('API key routes', () => {
  let app: TestApp;
  const kit = accessFixture(() => app);

  beforeAll(async () => {
    app = await startTestApp({ runConsumers: false });
  });
  afterAll(async () => {
    await app.close();
  });

  it('shows the secret once: the issue answer has it, the list and the log hold no secret', async () => {
    const tenant = await kit.createTenant();
    const workspace = await kit.createWorkspace(tenant.tenantId, 'Team');
    const issued = await kit
      .http()
      .post(`/v1/tenants/${tenant.tenantId}/api-keys`)
      .set(AUTH)
      .send({ role: 'reader', workspaceId: workspace.workspaceId.toUpperCase(), name: ' CI ' });
    expect(issued.status).toBe(201);
    expect(issued.headers['cache-control']).toBe('no-store');
    const body = issued.body as Record<string, unknown>;
    expect(body).toEqual({
      apiKeyId: expect.any(String),
      secret: expect.stringMatching(/^tnc_[A-Za-z0-9_-]{43}$/),
      role: 'reader',
      workspaceId: workspace.workspaceId,
      name: 'CI',
      createdAt: expect.any(String),
      revision: expect.any(Number),
      position: expect.any(String),
    });
    const secret = body.secret as string;

    const list = await kit.http().get(`/v1/tenants/${tenant.tenantId}/api-keys`).set(AUTH);
    expect(list.status).toBe(200);
    expect(list.body).toEqual({
      items: [
        {
          apiKeyId: body.apiKeyId,
          tenantId: tenant.tenantId,
          role: 'reader',
          workspaceId: workspace.workspaceId,
          name: 'CI',
          createdAt: body.createdAt,
          status: 'active',
        },
      ],
    });
    const { rows } = await app.database.pool.query<{ data: string }>('SELECT data::text AS data FROM events');
    expect(rows.some((row) => row.data.includes(secret))).toBe(false);
    expect(rows.some((row) => row.data.includes('sha256:'))).toBe(true);
  });

  it('refuses the 101st active key at the default quota with the limit and the count', async () => {
    const tenant = await kit.createTenant();
    for (let n = 0; n < 100; n++) await kit.issueKey(tenant.tenantId, 'reader');
    const refused = await kit
      .http()
      .post(`/v1/tenants/${tenant.tenantId}/api-keys`)
      .set(AUTH)
      .send({ role: 'reader', name: 'one too many' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'API_KEY_LIMIT_REACHED', limit: 100, current: 100 });
  });

  it('revokes with 204, repeats quietly, and answers 404 for a key the tenant never had', async () => {
    const tenant = await kit.createTenant();
    const key = await kit.issueKey(tenant.tenantId, 'admin');
    const path = `/v1/tenants/${tenant.tenantId}/api-keys/${key.apiKeyId}`;
    expect((await kit.http().delete(path).set(AUTH)).status).toBe(204);
    const before = await kit.logLength();
    expect((await kit.http().delete(path).set(AUTH)).status).toBe(204);
    expect(await kit.logLength()).toBe(before);
    const other = await kit.createTenant();
    const foreign = await kit
      .http()
      .delete(`/v1/tenants/${other.tenantId}/api-keys/${key.apiKeyId}`)
      .set(AUTH);
    const body = foreign.body as { code: string; title: string };
    expect({ status: foreign.status, code: body.code, title: body.title }).toEqual({
      status: 404,
      code: 'API_KEY_NOT_FOUND',
      // The title spells the acronym as the documentation does.
      title: 'API key not found',
    });
    const list = await kit.http().get(`/v1/tenants/${tenant.tenantId}/api-keys`).set(AUTH);
    expect((list.body as { items: { status: string }[] }).items.map((item) => item.status)).toEqual([
      'revoked',
    ]);
  });

  it('revokes the keys scoped to a workspace when it is deleted: listed revoked, out of the quota', async () => {
    const tenant = await kit.createTenant();
    const T = `/v1/tenants/${tenant.tenantId}`;
    const workspace = await kit.createWorkspace(tenant.tenantId, 'Short-lived');
    expect((await kit.http().put(`${T}/quotas`).set(AUTH).send({ maxApiKeys: 1 })).status).toBe(200);
    const scoped = await kit.issueKey(tenant.tenantId, 'admin', workspace.workspaceId);
    expect((await kit.http().delete(`${T}/workspaces/${workspace.workspaceId}`).set(AUTH)).status).toBe(204);

    const list = await kit.http().get(`${T}/api-keys`).set(AUTH);
    expect((list.body as { items: { apiKeyId: string; status: string }[] }).items).toEqual([
      expect.objectContaining({ apiKeyId: scoped.apiKeyId, status: 'revoked' }),
    ]);
    expect((await kit.http().get(`${T}/workspaces`).set(scoped.auth)).status).toBe(401);
    await kit.issueKey(tenant.tenantId, 'reader');
  });

  it('takes a key id from the client, so that a retry after a lost answer cannot leave a second key', async () => {
    const tenant = await kit.createTenant();
    const T = `/v1/tenants/${tenant.tenantId}`;
    const apiKeyId = randomUUID();
    const send = () =>
      kit.http().post(`${T}/api-keys`).set(AUTH).send({ apiKeyId: apiKeyId.toUpperCase(), role: 'reader' });
    const first = await send();
    expect({ status: first.status, apiKeyId: (first.body as { apiKeyId: string }).apiKeyId }).toEqual({
      status: 201,
      apiKeyId,
    });
    // The secret is shown once: a retry of a recorded issue says so, and issues nothing.
    const before = await kit.logLength();
    const retried = await send();
    expect({ status: retried.status, code: (retried.body as { code: string }).code }).toEqual({
      status: 409,
      code: 'API_KEY_ID_TAKEN',
    });
    expect(await kit.logLength()).toBe(before);
    const list = await kit.http().get(`${T}/api-keys`).set(AUTH);
    expect((list.body as { items: { apiKeyId: string }[] }).items.map((key) => key.apiKeyId)).toEqual([
      apiKeyId,
    ]);
  });

  it("one tenant's key id says nothing of another tenant's key with the same id", async () => {
    const [one, other] = [await kit.createTenant(), await kit.createTenant()];
    const apiKeyId = randomUUID();
    const issue = (tenantId: string) =>
      kit.http().post(`/v1/tenants/${tenantId}/api-keys`).set(AUTH).send({ apiKeyId, role: 'admin' });
    expect((await issue(one.tenantId)).status).toBe(201);
    expect(
      (await kit.http().delete(`/v1/tenants/${one.tenantId}/api-keys/${apiKeyId}`).set(AUTH)).status,
    ).toBe(204);
    const issued = await issue(other.tenantId);
    expect(issued.status).toBe(201);
    const secret = (issued.body as { secret: string }).secret;
    const read = await kit.http().get(`/v1/tenants/${other.tenantId}/api-keys`).set(bearer(secret));
    expect(read.status).toBe(200);
  });

  it('takes the scheme name in any case and more than one space after it (RFC 9110 11.1, 11.4), and no other scheme', async () => {
    const tenant = await kit.createTenant();
    const { secret } = await kit.issueKey(tenant.tenantId, 'reader');
    const operatorKey = AUTH.Authorization.slice('Bearer '.length);
    for (const key of [secret, operatorKey]) {
      for (const scheme of ['bearer', 'BEARER', 'bEaReR', 'Bearer ']) {
        const read = await kit
          .http()
          .get(`/v1/tenants/${tenant.tenantId}/events?limit=1`)
          .set('Authorization', `${scheme} ${key}`);
        expect({ scheme, status: read.status }).toEqual({ scheme, status: 200 });
      }
    }
    for (const authorization of [`Bearerx ${secret}`, `Token ${secret}`, secret, `Bearer`]) {
      const read = await kit
        .http()
        .get(`/v1/tenants/${tenant.tenantId}/events?limit=1`)
        .set('Authorization', authorization);
      expect({ authorization, status: read.status }).toEqual({ authorization, status: 401 });
    }
  });

  it('refuses a request with two Authorization headers, whichever of them is valid', async () => {
    const before = await kit.logLength();
    for (const pair of [
      [AUTH.Authorization, AUTH.Authorization],
      [AUTH.Authorization, 'Bearer tnc_not-a-key'],
      ['Bearer tnc_not-a-key', AUTH.Authorization],
    ]) {
      for (const request of [
        kit.http().get('/v1/tenants'),
        kit
          .http()
          .post('/v1/tenants')
          .send({ name: `Twice ${randomUUID().slice(0, 8)}` }),
      ]) {
        // An array goes out as one header line per value (the typings allow arrays only for Cookie).
        const response = await request.set('Authorization', pair as unknown as string);
        expect({ status: response.status, body: response.body as unknown }).toEqual({
          status: 400,
          body: expect.objectContaining({
            code: 'VALIDATION_FAILED',
            errors: [{ field: 'Authorization', message: expect.stringContaining('once') }],
          }),
        });
      }
    }
    expect(await kit.logLength()).toBe(before);
  });

  it('authenticates before reading the body: without a valid key, no body is judged (401, not 400, 413 or 415)', async () => {
    const tenant = await kit.createTenant();
    const bodies: [string, string][] = [
      ['application/json', '{"name": '],
      ['application/json', JSON.stringify({ name: 'x'.repeat(100_000) })],
      ['text/plain', 'name=Acme'],
    ];
    const paths = [
      '/v1/tenants',
      `/v1/tenants/${tenant.tenantId}/workspaces`,
      `/v1/tenants/${tenant.tenantId}/permissions/check`,
    ];
    for (const authorization of [undefined, 'Bearer tnc_not-a-key', 'Basic YTpi']) {
      for (const path of paths) {
        for (const [type, body] of bodies) {
          const sent = kit.http().post(path).set('Content-Type', type);
          if (authorization !== undefined) sent.set('Authorization', authorization);
          const response = await sent.send(body);
          expect({
            path,
            type,
            status: response.status,
            code: (response.body as { code?: string }).code,
          }).toEqual({
            path,
            type,
            status: 401,
            code: 'UNAUTHORIZED',
          });
          expect(response.headers['www-authenticate']).toBeDefined();
        }
      }
    }
    // With a valid key the body is judged as before.
    const judged = await kit
      .http()
      .post('/v1/tenants')
      .set(AUTH)
      .set('Content-Type', 'application/json')
      .send('{"name": ');
    expect({ status: judged.status, code: (judged.body as { code?: string }).code }).toEqual({
      status: 400,
      code: 'MALFORMED_BODY',
    });
  });

  it('refuses a scope on an unknown workspace with 404', async () => {
    const tenant = await kit.createTenant();
    const response = await kit
      .http()
      .post(`/v1/tenants/${tenant.tenantId}/api-keys`)
      .set(AUTH)
      .send({ role: 'admin', workspaceId: '00000000-0000-4000-8000-000000000001' });
    expect({ status: response.status, code: (response.body as { code: string }).code }).toEqual({
      status: 404,
      code: 'WORKSPACE_NOT_FOUND',
    });
  });

  it('stores an injection attempt as a plain name, byte for byte', async () => {
    const tenant = await kit.createTenant();
    const name = `Robert'); DROP TABLE events; -- {"$gt": ""}`;
    const created = await kit
      .http()
      .post(`/v1/tenants/${tenant.tenantId}/workspaces`)
      .set(AUTH)
      .send({ name });
    expect(created.status).toBe(201);
    expect((created.body as { name: string }).name).toBe(name);
  });

  it('records events that match the published catalog', async () => {
    const tenant = await kit.createTenant();
    const workspace = await kit.createWorkspace(tenant.tenantId, 'Team');
    const key = await kit.issueKey(tenant.tenantId, 'admin', workspace.workspaceId);
    await kit.revokeKey(tenant.tenantId, key.apiKeyId);
    const { rows } = await app.database.pool.query<{
      type: string;
      data: unknown;
      metadata: Record<string, unknown>;
    }>(
      `SELECT event_type AS type, data, metadata FROM events WHERE event_type LIKE 'ApiKey%' AND stream_name = $1 ORDER BY stream_revision`,
      [`tenant-${tenant.tenantId}`],
    );
    expect(rows.map((row) => row.type)).toEqual(['ApiKeyIssued', 'ApiKeyRevoked']);
    const validator = await loadEventSchemaValidator();
    expect(() => validator.assertAllValid(rows)).not.toThrow();
  });
});

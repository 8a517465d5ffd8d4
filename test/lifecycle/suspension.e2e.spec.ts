import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { accessFixture } from '../access/access-fixture.js';

/**
 * Suspension as the operator and the tenant's clients see it over HTTP: every change but
 * reactivation, deletion, key revocation and erasure is refused with 409 TENANT_SUSPENDED and changes nothing,
 * keys still read, checks deny with the reason, and reactivation gives everything back.
 */
describe('suspending and reactivating a tenant', () => {
  let app: TestApp;
  const kit = accessFixture(() => app);
  const http = () => request(app.server);
  let tenantId: string;
  let T: string;
  let workspaceId: string;
  let otherWorkspaceId: string;
  let groupId: string;
  let grantId: string;
  let apiKeyId: string;
  let adminKey: Record<string, string>;
  let readerKey: Record<string, string>;
  let leaked: { apiKeyId: string; auth: Record<string, string> };
  let suspendedAt: string;

  beforeAll(async () => {
    app = await startTestApp();
    const tenant = await kit.createTenant('Suspended Co');
    tenantId = tenant.tenantId;
    T = `/v1/tenants/${tenantId}`;
    workspaceId = (await kit.createWorkspace(tenantId, 'Docs')).workspaceId;
    otherWorkspaceId = (await kit.createWorkspace(tenantId, 'Other')).workspaceId;
    expect((await http().put(`${T}/members/ann`).set(AUTH).send({ displayName: 'Ann' })).status).toBe(201);
    expect((await http().put(`${T}/members/bob`).set(AUTH).send({})).status).toBe(201);
    const group = await http().post(`${T}/groups`).set(AUTH).send({ name: 'Ops' });
    groupId = (group.body as { groupId: string }).groupId;
    const grant = await http()
      .post(`${T}/grants`)
      .set(AUTH)
      .send({ principal: { type: 'user', id: 'ann' }, role: 'editor', workspaceId });
    expect(grant.status).toBe(201);
    grantId = (grant.body as { grantId: string }).grantId;
    const admin = await kit.issueKey(tenantId, 'admin');
    adminKey = admin.auth;
    apiKeyId = admin.apiKeyId;
    readerKey = (await kit.issueKey(tenantId, 'reader')).auth;
    leaked = await kit.issueKey(tenantId, 'reader');
    await kit.settle();

    const suspended = await http().post(`${T}/suspend`).set(AUTH).send({ reason: 'unpaid invoice' });
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({ tenantId, status: 'suspended' });
    suspendedAt = (suspended.body as { position: string }).position;
  });
  afterAll(async () => {
    await app.close();
  });

  it('shows the suspension with its reason, and a second suspend changes nothing', async () => {
    const tenant = await http().get(T).set(AUTH).set('Min-Position', suspendedAt);
    expect(tenant.status).toBe(200);
    expect(tenant.body).toMatchObject({ status: 'suspended' });
    const before = await kit.logLength();
    const again = await http().post(`${T}/suspend`).set(AUTH).send({ reason: 'another reason' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'suspended' });
    expect(await kit.logLength()).toBe(before);
  });

  it('refuses every change but reactivation, deletion, key revocation and erasure with 409 TENANT_SUSPENDED, changing nothing', async () => {
    const attempts: [string, () => request.Test][] = [
      ['create a workspace', () => http().post(`${T}/workspaces`).set(AUTH).send({ name: 'New' })],
      [
        'rename a workspace',
        () => http().patch(`${T}/workspaces/${workspaceId}`).set(AUTH).send({ name: 'X' }),
      ],
      [
        'move a workspace',
        () =>
          http()
            .post(`${T}/workspaces/${workspaceId}/move`)
            .set(AUTH)
            .send({ parentWorkspaceId: otherWorkspaceId }),
      ],
      ['delete a workspace', () => http().delete(`${T}/workspaces/${workspaceId}`).set(AUTH)],
      ['delete a subtree', () => http().delete(`${T}/workspaces/${workspaceId}?cascade=true`).set(AUTH)],
      ['issue an API key', () => http().post(`${T}/api-keys`).set(AUTH).send({ role: 'reader' })],
      ['add a member', () => http().put(`${T}/members/carol`).set(AUTH).send({})],
      ['change a member', () => http().put(`${T}/members/ann`).set(AUTH).send({ displayName: 'A.' })],
      ['remove a member', () => http().delete(`${T}/members/bob`).set(AUTH)],
      ['create a group', () => http().post(`${T}/groups`).set(AUTH).send({ name: 'Dev' })],
      ['rename a group', () => http().patch(`${T}/groups/${groupId}`).set(AUTH).send({ name: 'Ops 2' })],
      ['delete a group', () => http().delete(`${T}/groups/${groupId}`).set(AUTH)],
      ['add a group member', () => http().put(`${T}/groups/${groupId}/members/bob`).set(AUTH).send({})],
      ['remove a group member', () => http().delete(`${T}/groups/${groupId}/members/ann`).set(AUTH)],
      [
        'grant a role',
        () =>
          http()
            .post(`${T}/grants`)
            .set(AUTH)
            .send({ principal: { type: 'user', id: 'bob' }, role: 'viewer' }),
      ],
      ['revoke a grant', () => http().delete(`${T}/grants/${grantId}`).set(AUTH)],
      [
        'rename the tenant',
        () =>
          http()
            .patch(T)
            .set(AUTH)
            .send({ name: `Renamed ${tenantId}` }),
      ],
      ['set quotas', () => http().put(`${T}/quotas`).set(AUTH).send({ maxWorkspaces: 10 })],
    ];
    await http().put(`${T}/groups/${groupId}/members/ann`).set(AUTH).send({});
    const before = await kit.logLength();
    const outcomes = [];
    for (const [label, send] of attempts) {
      const response = await send();
      outcomes.push({ label, status: response.status, code: (response.body as { code?: string }).code });
    }
    expect(outcomes).toEqual(attempts.map(([label]) => ({ label, status: 409, code: 'TENANT_SUSPENDED' })));
    expect(await kit.logLength()).toBe(before);
  });

  it("takes an API key away while suspended: a suspension often answers a leaked key, and the tenant's keys still read", async () => {
    expect((await http().get(T).set(leaked.auth)).status).toBe(200);
    const before = await kit.logLength();
    const revoked = await http().delete(`${T}/api-keys/${leaked.apiKeyId}`).set(AUTH);
    expect(revoked.status).toBe(204);
    expect(await kit.logLength()).toBe(before + 1);
    expect((await http().get(T).set(leaked.auth)).status).toBe(401);
    const statusOfKey = async () =>
      (
        (await http().get(`${T}/api-keys`).set(AUTH)).body as {
          items: { apiKeyId: string; status: string }[];
        }
      ).items.find((item) => item.apiKeyId === leaked.apiKeyId)?.status;
    await waitFor(async () => (await statusOfKey()) === 'revoked', 10_000);
    // Nothing else opened up: the tenant is still suspended.
    const write = await http().post(`${T}/workspaces`).set(AUTH).send({ name: 'Still not' });
    expect({ status: write.status, code: (write.body as { code?: string }).code }).toEqual({
      status: 409,
      code: 'TENANT_SUSPENDED',
    });
  });

  it('lets tenant keys read but not write', async () => {
    for (const auth of [adminKey, readerKey]) {
      expect((await http().get(T).set(auth)).status).toBe(200);
      const list = await http().get(`${T}/workspaces`).set(auth).set('Min-Position', suspendedAt);
      expect(list.status).toBe(200);
      expect((list.body as { items: unknown[] }).items.length).toBe(3);
      expect((await http().get(`${T}/members`).set(auth)).status).toBe(200);
      expect((await http().get(`${T}/grants`).set(auth)).status).toBe(200);
      expect((await http().get(`${T}/events`).set(auth)).status).toBe(200);
    }
    const write = await http().post(`${T}/workspaces`).set(adminKey).send({ name: 'By key' });
    expect(write.status).toBe(409);
    expect(write.body).toMatchObject({ code: 'TENANT_SUSPENDED' });
    const key = await http().post(`${T}/api-keys`).set(adminKey).send({ role: 'reader' });
    expect(key.status).toBe(409);
  });

  it('keeps the audit trail and puts TenantSuspended on the event feed', async () => {
    const events = await http().get(`/v1/events?tenantId=${tenantId}&types=TenantSuspended`).set(AUTH);
    expect(events.status).toBe(200);
    expect((events.body as { items: { type: string; data: unknown }[] }).items).toEqual([
      expect.objectContaining({
        type: 'TenantSuspended',
        data: { tenantId, reason: 'unpaid invoice' },
      }),
    ]);
    const stream = await http().get(`${T}/events`).set(readerKey);
    expect((stream.body as { items: { type: string }[] }).items.map((item) => item.type)).toContain(
      'TenantSuspended',
    );
  });

  it('answers every permission check allowed: false with reason tenant_suspended, also for the tenant admin', async () => {
    const check = await http()
      .post(`${T}/permissions/check`)
      .set(AUTH)
      .set('Min-Position', suspendedAt)
      .send({ principal: { type: 'user', id: 'ann' }, permission: 'workspace.write', workspaceId });
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({ allowed: false, reason: 'tenant_suspended' });
    const batch = await http()
      .post(`${T}/permissions/check`)
      .set(AUTH)
      .send({
        checks: [
          { principal: { type: 'user', id: 'ann' }, permission: 'workspace.read', workspaceId },
          { principal: { type: 'apiKey', id: apiKeyId }, permission: 'workspace.delete' },
        ],
      });
    expect(batch.status).toBe(200);
    expect((batch.body as { results: unknown[] }).results).toEqual([
      expect.objectContaining({ allowed: false, reason: 'tenant_suspended' }),
      expect.objectContaining({ allowed: false, reason: 'tenant_suspended' }),
    ]);
  });

  it('reactivation restores writes, keys and checks', async () => {
    const reactivated = await http().post(`${T}/reactivate`).set(AUTH).send();
    expect(reactivated.status).toBe(200);
    expect(reactivated.body).toMatchObject({ tenantId, status: 'active' });
    const position = (reactivated.body as { position: string }).position;
    const check = await http()
      .post(`${T}/permissions/check`)
      .set(AUTH)
      .set('Min-Position', position)
      .send({ principal: { type: 'user', id: 'ann' }, permission: 'workspace.write', workspaceId });
    expect(check.body).toMatchObject({ allowed: true });
    expect(check.body).not.toHaveProperty('reason');
    expect((await http().post(`${T}/workspaces`).set(adminKey).send({ name: 'By key' })).status).toBe(201);
    expect((await http().put(`${T}/members/carol`).set(AUTH).send({})).status).toBe(201);
    const tenant = await http().get(T).set(AUTH).set('Min-Position', position);
    expect(tenant.body).toMatchObject({ status: 'active' });
    const again = await http().post(`${T}/reactivate`).set(AUTH).send();
    expect(again.status).toBe(200);
    const feed = await http().get(`/v1/events?tenantId=${tenantId}&types=TenantReactivated`).set(AUTH);
    expect((feed.body as { items: unknown[] }).items).toHaveLength(1);
  });

  it('suspend and reactivate are the operator’s: a tenant admin key gets 403', async () => {
    expect((await http().post(`${T}/suspend`).set(adminKey).send({ reason: 'mine' })).status).toBe(403);
    expect((await http().post(`${T}/reactivate`).set(adminKey).send()).status).toBe(403);
    const bad = await http().post(`${T}/suspend`).set(AUTH).send({ reason: 'two\nlines' });
    expect(bad.status).toBe(400);
    expect((await http().post(`${T}/suspend`).set(AUTH).send({})).status).toBe(400);
  });

  it('a suspended tenant can still be deleted, to the end', async () => {
    const tenant = await kit.createTenant('Suspended then deleted');
    const path = `/v1/tenants/${tenant.tenantId}`;
    await kit.createWorkspace(tenant.tenantId, 'Child');
    await kit.settle();
    expect((await http().post(`${path}/suspend`).set(AUTH).send({ reason: 'closing' })).status).toBe(200);
    const deleted = await http().delete(path).set(AUTH);
    expect(deleted.status).toBe(202);
    await kit.settle();
    // The cascade has appended the tenant's deletion; the read model shows it once it applied it.
    await waitFor(
      async () => ((await http().get(path).set(AUTH)).body as { status?: string }).status === 'deleted',
      10_000,
    );
    // A deleting tenant cannot be reactivated or suspended again.
    const reactivate = await http().post(`${path}/reactivate`).set(AUTH).send();
    expect([404, 409]).toContain(reactivate.status);
  });

  it('an unknown tenant is 404 for suspend and reactivate', async () => {
    const missing = '/v1/tenants/00000000-0000-4000-8000-000000000000';
    expect((await http().post(`${missing}/suspend`).set(AUTH).send({ reason: 'x' })).status).toBe(404);
    expect((await http().post(`${missing}/reactivate`).set(AUTH).send()).status).toBe(404);
  });
});

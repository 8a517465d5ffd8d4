import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { AUTH, startTestApp, startTestAppOn, type TestApp } from '../support/test-app.js';
import { accessFixture } from '../access/access-fixture.js';
import { countLostAppends } from '../support/lost-appends.js';

type Quota = 'maxWorkspaces' | 'maxDepth' | 'maxApiKeys' | 'maxMembers' | 'maxGroups';

/**
 * Quotas over HTTP on two service instances with a configured default (3 API keys): each limit
 * refused exactly at its boundary with the limit and the count, concurrent creates that would
 * together exceed it, and a lowered quota that refuses new items only.
 */
describe('tenant quotas', () => {
  let first: TestApp;
  let second: TestApp;
  const kit = accessFixture(() => first);
  const on = (app: TestApp) => request(app.server);
  const http = () => on(first);

  beforeAll(async () => {
    first = await startTestApp({ quotaMaxApiKeys: 3 });
    second = await startTestAppOn(first.database, { runConsumers: false, quotaMaxApiKeys: 3 });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  /** One new item of each kind, on the given instance. */
  const creators: Record<Exclude<Quota, 'maxDepth'>, (T: string, app: TestApp) => request.Test> = {
    maxWorkspaces: (T, app) =>
      on(app)
        .post(`${T}/workspaces`)
        .set(AUTH)
        .send({ name: `w ${randomUUID()}` }),
    maxApiKeys: (T, app) => on(app).post(`${T}/api-keys`).set(AUTH).send({ role: 'reader' }),
    maxMembers: (T, app) => on(app).put(`${T}/members/user-${randomUUID()}`).set(AUTH).send({}),
    maxGroups: (T, app) =>
      on(app)
        .post(`${T}/groups`)
        .set(AUTH)
        .send({ name: `g ${randomUUID()}` }),
  };
  const setQuotas = async (T: string, quotas: Partial<Record<Quota, number | null>>) => {
    const response = await http().put(`${T}/quotas`).set(AUTH).send(quotas);
    expect(response.status).toBe(200);
    return response;
  };

  it('shows each quota with its limit, where it comes from, and the use; PUT replaces the tenant’s own', async () => {
    const tenant = await kit.createTenant('Shown');
    const T = `/v1/tenants/${tenant.tenantId}`;
    await kit.settle();
    const shown = await http().get(`${T}/quotas`).set(AUTH);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      tenantId: tenant.tenantId,
      quotas: {
        maxWorkspaces: { limit: 1_000_000, source: 'default', current: 1 },
        maxDepth: { limit: 1_000, source: 'default', current: 0 },
        maxApiKeys: { limit: 3, source: 'default', current: 0 },
        maxMembers: { limit: 100_000, source: 'default', current: 0 },
        maxGroups: { limit: 10_000, source: 'default', current: 0 },
      },
    });
    const set = await setQuotas(T, { maxGroups: 7, maxApiKeys: 2 });
    expect(set.body).toMatchObject({ quotas: { maxGroups: { limit: 7, source: 'tenant' } } });
    // Replaced, not merged: maxApiKeys follows the default again.
    const replaced = await setQuotas(T, { maxGroups: 7 });
    expect(replaced.body).toMatchObject({ quotas: { maxApiKeys: { limit: 3, source: 'default' } } });
    const before = await kit.logLength();
    await setQuotas(T, { maxGroups: 7, maxMembers: null });
    expect(await kit.logLength()).toBe(before);
    for (const bad of [
      { maxGroups: -1 },
      { maxGroups: 1.5 },
      { maxApiKeys: 101 },
      { maxCats: 3 },
      { maxGroups: '7' },
    ]) {
      expect({ bad, status: (await http().put(`${T}/quotas`).set(AUTH).send(bad)).status }).toEqual({
        bad,
        status: 400,
      });
    }
    const key = await kit.issueKey(tenant.tenantId, 'admin');
    expect((await http().put(`${T}/quotas`).set(key.auth).send({ maxGroups: 9 })).status).toBe(403);
    expect((await http().get(`${T}/quotas`).set(key.auth)).status).toBe(200);
  });

  it.each(['maxWorkspaces', 'maxApiKeys', 'maxMembers', 'maxGroups'] as const)(
    '%s: the last item within the limit is accepted, the next refused with the limit and the count',
    async (quota) => {
      const tenant = await kit.createTenant(quota);
      const T = `/v1/tenants/${tenant.tenantId}`;
      await kit.settle();
      // The root counts as a workspace.
      const used = quota === 'maxWorkspaces' ? 1 : 0;
      await setQuotas(T, { [quota]: used + 2 });
      expect((await creators[quota](T, first)).status).toBe(201);
      expect((await creators[quota](T, second)).status).toBe(201);
      const before = await kit.logLength();
      const refused = await creators[quota](T, first);
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'QUOTA_EXCEEDED',
        quota,
        limit: used + 2,
        current: used + 2,
      });
      expect(await kit.logLength()).toBe(before);
    },
  );

  it('maxDepth: a workspace at the limit is accepted, one below it refused', async () => {
    const tenant = await kit.createTenant('Depth');
    const T = `/v1/tenants/${tenant.tenantId}`;
    await setQuotas(T, { maxDepth: 2 });
    const one = await kit.createWorkspace(tenant.tenantId, 'One');
    const two = await kit.createWorkspace(tenant.tenantId, 'Two', one.workspaceId);
    const three = await http()
      .post(`${T}/workspaces`)
      .set(AUTH)
      .send({ name: 'Three', parentWorkspaceId: two.workspaceId });
    expect(three.status).toBe(409);
    expect(three.body).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: 'maxDepth', limit: 2 });
  });

  it.each(['maxWorkspaces', 'maxApiKeys', 'maxMembers', 'maxGroups'] as const)(
    '%s: 12 concurrent creates on two instances with room for 5 leave exactly 5',
    async (quota) => {
      const tenant = await kit.createTenant(`Race ${quota}`);
      const T = `/v1/tenants/${tenant.tenantId}`;
      await kit.settle();
      const used = quota === 'maxWorkspaces' ? 1 : 0;
      await setQuotas(T, { [quota]: used + 5 });
      // The instances' first appends wait for each other: decided on one revision, the store arbitrates.
      const lost = countLostAppends([first, second]);
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, index) => creators[quota](T, index % 2 === 0 ? first : second)),
      );
      expect(lost.stop()).toBeGreaterThan(0);
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([...Array(5).fill(201), ...Array(7).fill(409)]);
      for (const response of responses.filter((each) => each.status === 409))
        expect(response.body).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: used + 5 });
      const shown = await http().get(`${T}/quotas`).set(AUTH);
      expect((shown.body as { quotas: Record<Quota, { current: number }> }).quotas[quota].current).toBe(
        used + 5,
      );
    },
  );

  it('the configured default applies to a tenant without its own quota', async () => {
    const tenant = await kit.createTenant('Default keys');
    for (let index = 0; index < 3; index++) await kit.issueKey(tenant.tenantId, 'reader');
    const refused = await creators.maxApiKeys(`/v1/tenants/${tenant.tenantId}`, second);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: 'maxApiKeys', limit: 3, current: 3 });
  });

  it('a quota lowered below the current use refuses new items only: what exists stays and still changes', async () => {
    const tenant = await kit.createTenant('Lowered');
    const T = `/v1/tenants/${tenant.tenantId}`;
    const a = await kit.createWorkspace(tenant.tenantId, 'A');
    const b = await kit.createWorkspace(tenant.tenantId, 'B', a.workspaceId);
    await http().put(`${T}/members/m1`).set(AUTH).send({});
    await http().put(`${T}/members/m2`).set(AUTH).send({});
    const set = await setQuotas(T, { maxWorkspaces: 1, maxMembers: 1, maxDepth: 1 });
    expect(set.body).toMatchObject({
      quotas: {
        maxWorkspaces: { limit: 1, current: 3 },
        maxMembers: { limit: 1, current: 2 },
        maxDepth: { limit: 1, current: 2 },
      },
    });
    const position = (set.body as { position: string }).position;
    const list = await http().get(`${T}/workspaces`).set(AUTH).set('Min-Position', position);
    expect((list.body as { items: unknown[] }).items).toHaveLength(3);
    expect((await creators.maxWorkspaces(T, first)).status).toBe(409);
    expect((await creators.maxMembers(T, first)).status).toBe(409);
    // Existing items still change: a rename, a member's name, a removal.
    expect(
      (await http().patch(`${T}/workspaces/${b.workspaceId}`).set(AUTH).send({ name: 'B2' })).status,
    ).toBe(200);
    expect((await http().put(`${T}/members/m1`).set(AUTH).send({ displayName: 'M' })).status).toBe(200);
    expect((await http().delete(`${T}/workspaces/${b.workspaceId}`).set(AUTH)).status).toBe(204);
  });

  it('tells a workspace key that the workspace quota is reached, never how many workspaces the tenant holds', async () => {
    const tenant = await kit.createTenant('Counted');
    const T = `/v1/tenants/${tenant.tenantId}`;
    const team = await kit.createWorkspace(tenant.tenantId, 'Team');
    for (const label of ['Other 1', 'Other 2', 'Other 3']) await kit.createWorkspace(tenant.tenantId, label);
    const key = await kit.issueKey(tenant.tenantId, 'admin', team.workspaceId);
    await setQuotas(T, { maxWorkspaces: 5 });

    const refused = await http()
      .post(`${T}/workspaces`)
      .set(key.auth)
      .send({ name: 'One more', parentWorkspaceId: team.workspaceId });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      type: 'urn:tenancy:problem:quota-exceeded',
      title: 'Quota exceeded',
      status: 409,
      code: 'QUOTA_EXCEEDED',
      detail: "the tenant's quota maxWorkspaces is reached",
      quota: 'maxWorkspaces',
    });
    // A tenant-wide caller may read the quotas anyway, and is told the figures.
    const told = await http().post(`${T}/workspaces`).set(AUTH).send({ name: 'One more' });
    expect(told.body).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: 'maxWorkspaces', limit: 5, current: 5 });
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { accessFixture } from '../access/access-fixture.js';

const ROLES = ['viewer', 'editor', 'admin'] as const;
type Role = (typeof ROLES)[number];
const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };
/** The documented permission table, written out again here so that the test does not read it from the code. */
const PERMISSIONS = {
  'workspace.read': { role: 'viewer', tenantWide: false },
  'workspace.write': { role: 'editor', tenantWide: false },
  'workspace.delete': { role: 'admin', tenantWide: false },
  'members.manage': { role: 'admin', tenantWide: false },
  'grants.manage': { role: 'admin', tenantWide: false },
  'keys.manage': { role: 'admin', tenantWide: true },
} as const;
type Permission = keyof typeof PERMISSIONS;

type Route = 'tenant' | 'workspace' | 'group';
interface Holder {
  readonly label: string;
  readonly principal: { type: 'user' | 'group'; id: string };
  readonly route: Route;
  readonly role: Role;
  grantId?: string;
  groupId?: string;
}

/**
 * The inheritance matrix: a grant of each role on the tenant, on a workspace W, and on W through a
 * group, checked (in one batch) on W, its descendants, its ancestors, its sibling and the tenant as
 * a whole, for every permission. The expected answer of each cell is derived from the rules as
 * documented, independently of the service's code.
 *
 *   root ─ P ─ W ─ D1 ─ D2
 *            └ S
 */
describe('inheritance matrix: grants on the tenant, a workspace and a group, checked all around', () => {
  let app: TestApp;
  const kit = accessFixture(() => app);
  const http = () => request(app.server);
  let T: string;
  const places: Record<string, string | null> = {};
  const holders: Holder[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    const tenant = await kit.createTenant('Matrix');
    T = `/v1/tenants/${tenant.tenantId}`;
    const p = await kit.createWorkspace(tenant.tenantId, 'P');
    const w = await kit.createWorkspace(tenant.tenantId, 'W', p.workspaceId);
    const s = await kit.createWorkspace(tenant.tenantId, 'S', p.workspaceId);
    const d1 = await kit.createWorkspace(tenant.tenantId, 'D1', w.workspaceId);
    const d2 = await kit.createWorkspace(tenant.tenantId, 'D2', d1.workspaceId);
    Object.assign(places, {
      'W (the grant)': w.workspaceId,
      'D1 (child)': d1.workspaceId,
      'D2 (grandchild)': d2.workspaceId,
      'P (parent)': p.workspaceId,
      root: tenant.rootWorkspaceId,
      'S (sibling)': s.workspaceId,
      'the tenant': null,
    });
    const post = async (path: string, body: object) => {
      const response = await http().post(path).set(AUTH).send(body);
      expect(response.status).toBe(201);
      return response.body as Record<string, string>;
    };
    for (const role of ROLES) {
      for (const route of ['tenant', 'workspace', 'group'] as const) {
        const userId = `${route}-${role}`;
        expect((await http().put(`${T}/members/${userId}`).set(AUTH).send({})).status).toBe(201);
        const workspaceId = route === 'tenant' ? undefined : w.workspaceId;
        if (route !== 'group') {
          const grant = await post(`${T}/grants`, {
            principal: { type: 'user', id: userId },
            role,
            workspaceId,
          });
          holders.push({
            label: userId,
            principal: { type: 'user', id: userId },
            route,
            role,
            grantId: grant.grantId!,
          });
          continue;
        }
        const group = await post(`${T}/groups`, { name: `Group ${role}` });
        expect((await http().put(`${T}/groups/${group.groupId}/members/${userId}`).set(AUTH)).status).toBe(
          201,
        );
        const grant = await post(`${T}/grants`, {
          principal: { type: 'group', id: group.groupId },
          role,
          workspaceId,
        });
        holders.push({
          label: userId,
          principal: { type: 'user', id: userId },
          route,
          role,
          grantId: grant.grantId!,
          groupId: group.groupId!,
        });
        holders.push({
          label: `the group of ${userId}`,
          principal: { type: 'group', id: group.groupId! },
          route: 'workspace',
          role,
          grantId: grant.grantId!,
        });
      }
    }
  });
  afterAll(async () => {
    await app.close();
  });

  const expected = (holder: Holder, place: string, permission: Permission) => {
    const rule = PERMISSIONS[permission];
    const onTenant = holder.route === 'tenant';
    const covers = onTenant || ['W (the grant)', 'D1 (child)', 'D2 (grandchild)'].includes(place);
    if (!covers || (rule.tenantWide && !onTenant)) return { allowed: false };
    const via = {
      grantId: holder.grantId,
      workspaceId: onTenant ? null : places['W (the grant)'],
      ...(holder.groupId !== undefined && holder.principal.type === 'user' ? { group: holder.groupId } : {}),
    };
    return { allowed: RANK[holder.role] >= RANK[rule.role], role: holder.role, via };
  };

  it('answers every cell as the rules say', async () => {
    const cells: { label: string; check: object; expected: object }[] = [];
    for (const holder of holders) {
      for (const place of Object.keys(places)) {
        for (const permission of Object.keys(PERMISSIONS) as Permission[]) {
          const workspaceId = places[place];
          cells.push({
            label: `${holder.label} (${holder.role} via ${holder.route}) ${permission} on ${place}`,
            check: { principal: holder.principal, permission, ...(workspaceId ? { workspaceId } : {}) },
            expected: expected(holder, place, permission),
          });
        }
      }
    }
    expect(cells.length).toBeGreaterThan(500);
    expect(cells.length).toBeLessThanOrEqual(1000);
    const response = await http()
      .post(`${T}/permissions/check`)
      .set(AUTH)
      .send({ checks: cells.map((cell) => cell.check) });
    expect(response.status).toBe(200);
    const results = (response.body as { results: object[] }).results;
    const wrong = cells
      .map((cell, index) => ({ cell: cell.label, expected: cell.expected, got: results[index] }))
      .filter(({ expected: want, got }) => JSON.stringify(want) !== JSON.stringify(got));
    expect(wrong).toEqual([]);
    // The matrix is not trivially all-no or all-yes.
    const allowed = results.filter((result) => (result as { allowed: boolean }).allowed).length;
    expect(allowed).toBeGreaterThan(100);
    expect(cells.length - allowed).toBeGreaterThan(100);
  });

  it('takes effect at once when a user leaves the group, and the lookups agree with the checks', async () => {
    const holder = holders.find((candidate) => candidate.route === 'group' && candidate.role === 'editor')!;
    const reachable = await http()
      .get(`${T}/principals/user/${holder.label}/workspaces?permission=workspace.write`)
      .set(AUTH);
    expect(
      (reachable.body as { items: { workspaceId: string }[] }).items.map((item) => item.workspaceId),
    ).toEqual([places['W (the grant)'], places['D1 (child)'], places['D2 (grandchild)']]);
    expect(
      (await http().delete(`${T}/groups/${holder.groupId}/members/${holder.label}`).set(AUTH)).status,
    ).toBe(204);
    const after = await http().post(`${T}/permissions/check`).set(AUTH).send({
      principal: holder.principal,
      permission: 'workspace.read',
      workspaceId: places['D2 (grandchild)'],
    });
    expect(after.body).toMatchObject({ allowed: false });
    const none = await http()
      .get(`${T}/principals/user/${holder.label}/workspaces?permission=workspace.read`)
      .set(AUTH);
    expect((none.body as { items: unknown[] }).items).toEqual([]);
  });
});

import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { API_KEY_SECRET_PREFIX } from '../../src/application/access/api-key-secret.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { accessFixture, bearer } from './access-fixture.js';

/**
 * Every /v1 route against every kind of caller. The expected status of each cell is written out in
 * the table below; a cell that must not succeed must also change nothing (the log keeps its length)
 * and its answer must not contain any id or name the caller did not send itself.
 *
 * The fixture: tenants T and U; in T the workspaces W (with child W1) and S, both under the root.
 * "ws-in" is a workspace admin key on W, so W1 lies strictly inside its subtree and W is its top;
 * "ws-out" is a workspace admin key on S, outside of which everything here lies.
 */
const CALLERS = [
  'none',
  'wrong',
  'revoked',
  'operator',
  'admin',
  'reader',
  'other-admin',
  'ws-in',
  'ws-out',
] as const;
type Caller = (typeof CALLERS)[number];

interface Fixture {
  readonly t: { tenantId: string; name: string; rootWorkspaceId: string };
  readonly u: { tenantId: string; name: string; rootWorkspaceId: string };
  readonly w: { workspaceId: string; name: string };
  readonly w1: { workspaceId: string; name: string };
  readonly s: { workspaceId: string; name: string };
  /** A group of T with the member matrix-user, who is a viewer of the whole tenant. */
  readonly group: string;
  readonly auth: Record<Caller, Record<string, string>>;
  readonly keyIds: readonly string[];
}

interface Call {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly body?: object;
}

interface Row {
  readonly route: string;
  /** Builds the request; may first create a fresh target when success would use it up. */
  readonly call: (fixture: Fixture) => Promise<Call>;
  /** none, wrong, revoked, operator, admin, reader, other-admin, ws-in, ws-out */
  readonly expected: readonly [number, number, number, number, number, number, number, number, number];
  readonly stream?: boolean;
  /** Success destroys the fixture: run the operator's cell last. */
  readonly operatorLast?: boolean;
  /** Success sets a process manager going (root bootstrap, cascade), which appends a little later. */
  readonly reactsLater?: boolean;
  /** Puts the fixture back after each cell (a suspension lifted, a name restored). */
  readonly after?: (fixture: Fixture) => Promise<void>;
}

describe('access matrix: every /v1 route x every kind of caller', () => {
  let app: TestApp;
  const kit = accessFixture(() => app);
  let fixture: Fixture;
  let baseUrl: string;

  const unique = (label: string) => `${label} ${randomUUID().slice(0, 8)}`;
  const freshLeaf = async (f: Fixture) =>
    (await kit.createWorkspace(f.t.tenantId, unique('Leaf'), f.w1.workspaceId)).workspaceId;
  const freshKey = async (f: Fixture) => (await kit.issueKey(f.t.tenantId, 'reader')).apiKeyId;
  const T = (f: Fixture) => `/v1/tenants/${f.t.tenantId}`;
  const freshMember = async (f: Fixture) => {
    const userId = `user-${randomUUID().slice(0, 8)}`;
    expect(
      (
        await kit
          .http()
          .put(`${T(f)}/members/${userId}`)
          .set(AUTH)
          .send({})
      ).status,
    ).toBe(201);
    return userId;
  };
  const freshGroup = async (f: Fixture) => {
    const response = await kit
      .http()
      .post(`${T(f)}/groups`)
      .set(AUTH)
      .send({ name: unique('Group') });
    expect(response.status).toBe(201);
    return (response.body as { groupId: string }).groupId;
  };
  /** A new group that holds matrix-user, as the read model shows it. */
  const freshGroupWithMember = async (f: Fixture) => {
    const groupId = await freshGroup(f);
    const joined = await kit
      .http()
      .put(`${T(f)}/groups/${groupId}/members/matrix-user`)
      .set(AUTH);
    expect(joined.status).toBe(201);
    const read = await kit
      .http()
      .get(`${T(f)}/groups/${groupId}/members/matrix-user`)
      .set(AUTH)
      .set('Min-Position', (joined.body as { position: string }).position);
    expect(read.status).toBe(200);
    return groupId;
  };
  /** A new grant, once the read model (which GET of a grant reads) shows it. */
  const visibleGrant = async (f: Fixture, workspaceId?: string) => {
    const grantId = await freshGrant(f, workspaceId);
    await waitFor(
      async () =>
        (
          await kit
            .http()
            .get(`${T(f)}/grants/${grantId}`)
            .set(AUTH)
        ).status === 200,
      10_000,
    );
    return grantId;
  };
  const freshGrant = async (f: Fixture, workspaceId?: string) => {
    const userId = await freshMember(f);
    const response = await kit
      .http()
      .post(`${T(f)}/grants`)
      .set(AUTH)
      .send({ principal: { type: 'user', id: userId }, role: 'viewer', workspaceId });
    expect(response.status).toBe(201);
    return (response.body as { grantId: string }).grantId;
  };
  const reactivate = async (f: Fixture) => {
    expect(
      (
        await kit
          .http()
          .post(`${T(f)}/reactivate`)
          .set(AUTH)
          .send()
      ).status,
    ).toBe(200);
  };
  const check = (workspaceId?: string) => ({
    principal: { type: 'user', id: 'matrix-user' },
    permission: 'workspace.read',
    ...(workspaceId ? { workspaceId } : {}),
  });

  const ROWS: readonly Row[] = [
    // prettier-ignore
    { route: 'POST /v1/tenants', expected: [401, 401, 401, 201, 403, 403, 403, 403, 403], reactsLater: true,
      call: async () => ({ method: 'POST', path: '/v1/tenants', body: { name: unique('New') } }) },
    // prettier-ignore
    { route: 'GET /v1/tenants', expected: [401, 401, 401, 200, 403, 403, 403, 403, 403],
      call: async () => ({ method: 'GET', path: '/v1/tenants' }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}', expected: [401, 401, 401, 200, 200, 200, 404, 403, 403],
      call: async (f) => ({ method: 'GET', path: T(f) }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/events', expected: [401, 401, 401, 200, 200, 200, 404, 403, 403],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/events` }) },
    // prettier-ignore
    { route: 'POST /v1/tenants/{T}/workspaces under W1', expected: [401, 401, 401, 201, 201, 403, 404, 201, 404],
      call: async (f) => ({ method: 'POST', path: `${T(f)}/workspaces`, body: { name: unique('Child'), parentWorkspaceId: f.w1.workspaceId } }) },
    // prettier-ignore
    { route: 'POST /v1/tenants/{T}/workspaces under the root', expected: [401, 401, 401, 201, 201, 403, 404, 404, 404],
      call: async (f) => ({ method: 'POST', path: `${T(f)}/workspaces`, body: { name: unique('Top level') } }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/workspaces', expected: [401, 401, 401, 200, 200, 200, 404, 200, 200],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/workspaces?limit=500` }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/workspaces?parentWorkspaceId=W1', expected: [401, 401, 401, 200, 200, 200, 404, 200, 404],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/workspaces?parentWorkspaceId=${f.w1.workspaceId}` }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/workspaces/{W1}', expected: [401, 401, 401, 200, 200, 200, 404, 200, 404],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/workspaces/${f.w1.workspaceId}` }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/workspaces/{W} (the top of ws-in)', expected: [401, 401, 401, 200, 200, 200, 404, 200, 404],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/workspaces/${f.w.workspaceId}` }) },
    // prettier-ignore
    { route: 'PATCH /v1/tenants/{T}/workspaces/{W1}', expected: [401, 401, 401, 200, 200, 403, 404, 200, 404],
      call: async (f) => ({ method: 'PATCH', path: `${T(f)}/workspaces/${f.w1.workspaceId}`, body: { name: unique('Renamed') } }) },
    // prettier-ignore
    { route: 'PATCH /v1/tenants/{T}/workspaces/{W} (the top of ws-in)', expected: [401, 401, 401, 200, 200, 403, 404, 403, 404],
      call: async (f) => ({ method: 'PATCH', path: `${T(f)}/workspaces/${f.w.workspaceId}`, body: { name: unique('W') } }) },
    // prettier-ignore
    { route: 'DELETE /v1/tenants/{T}/workspaces/{leaf in W1}', expected: [401, 401, 401, 204, 204, 403, 404, 204, 404],
      call: async (f) => ({ method: 'DELETE', path: `${T(f)}/workspaces/${await freshLeaf(f)}` }) },
    // prettier-ignore
    { route: 'DELETE /v1/tenants/{T}/workspaces/{leaf in W1}?cascade=true', expected: [401, 401, 401, 202, 202, 403, 404, 202, 404], reactsLater: true,
      call: async (f) => ({ method: 'DELETE', path: `${T(f)}/workspaces/${await freshLeaf(f)}?cascade=true` }) },
    // prettier-ignore
    { route: 'POST /v1/tenants/{T}/api-keys', expected: [401, 401, 401, 201, 201, 403, 404, 403, 403],
      call: async (f) => ({ method: 'POST', path: `${T(f)}/api-keys`, body: { role: 'reader' } }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/api-keys', expected: [401, 401, 401, 200, 200, 403, 404, 403, 403],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/api-keys` }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/api-keys/{key}', expected: [401, 401, 401, 200, 200, 403, 404, 403, 403],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/api-keys/${await freshKey(f)}` }) },
    // prettier-ignore
    { route: 'DELETE /v1/tenants/{T}/api-keys/{key}', expected: [401, 401, 401, 204, 204, 403, 404, 403, 403],
      call: async (f) => ({ method: 'DELETE', path: `${T(f)}/api-keys/${await freshKey(f)}` }) },
    // prettier-ignore
    { route: 'PUT /v1/tenants/{T}/members/{new user}', expected: [401, 401, 401, 201, 201, 403, 404, 403, 403],
      call: async (f) => ({ method: 'PUT', path: `${T(f)}/members/new-${randomUUID().slice(0, 8)}`, body: {} }) },
    // prettier-ignore
    { route: 'DELETE /v1/tenants/{T}/members/{member}', expected: [401, 401, 401, 204, 204, 403, 404, 403, 403],
      call: async (f) => ({ method: 'DELETE', path: `${T(f)}/members/${await freshMember(f)}` }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/members', expected: [401, 401, 401, 200, 200, 200, 404, 403, 403],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/members` }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/members/{member}', expected: [401, 401, 401, 200, 200, 200, 404, 403, 403],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/members/matrix-user` }) },
    // prettier-ignore
    { route: 'POST /v1/tenants/{T}/groups', expected: [401, 401, 401, 201, 201, 403, 404, 403, 403],
      call: async (f) => ({ method: 'POST', path: `${T(f)}/groups`, body: { name: unique('Group') } }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/groups', expected: [401, 401, 401, 200, 200, 200, 404, 403, 403],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/groups` }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/groups/{group}', expected: [401, 401, 401, 200, 200, 200, 404, 403, 403],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/groups/${f.group}` }) },
    // prettier-ignore
    { route: 'PATCH /v1/tenants/{T}/groups/{group}', expected: [401, 401, 401, 200, 200, 403, 404, 403, 403],
      call: async (f) => ({ method: 'PATCH', path: `${T(f)}/groups/${await freshGroup(f)}`, body: { name: unique('Renamed group') } }) },
    // prettier-ignore
    { route: 'DELETE /v1/tenants/{T}/groups/{group}', expected: [401, 401, 401, 204, 204, 403, 404, 403, 403],
      call: async (f) => ({ method: 'DELETE', path: `${T(f)}/groups/${await freshGroup(f)}` }) },
    // prettier-ignore
    { route: 'PUT /v1/tenants/{T}/groups/{group}/members/{member}', expected: [401, 401, 401, 201, 201, 403, 404, 403, 403],
      call: async (f) => ({ method: 'PUT', path: `${T(f)}/groups/${await freshGroup(f)}/members/matrix-user` }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/groups/{group}/members', expected: [401, 401, 401, 200, 200, 200, 404, 403, 403],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/groups/${f.group}/members` }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/groups/{group}/members/{member}', expected: [401, 401, 401, 200, 200, 200, 404, 403, 403],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/groups/${await freshGroupWithMember(f)}/members/matrix-user` }) },
    // prettier-ignore
    { route: 'DELETE /v1/tenants/{T}/groups/{group}/members/{member}', expected: [401, 401, 401, 204, 204, 403, 404, 403, 403],
      call: async (f) => ({ method: 'DELETE', path: `${T(f)}/groups/${f.group}/members/matrix-user` }) },
    // prettier-ignore
    { route: 'POST /v1/tenants/{T}/grants on W1', expected: [401, 401, 401, 201, 201, 403, 404, 201, 404],
      call: async (f) => ({ method: 'POST', path: `${T(f)}/grants`, body: { principal: { type: 'user', id: await freshMember(f) }, role: 'editor', workspaceId: f.w1.workspaceId } }) },
    // prettier-ignore
    { route: 'POST /v1/tenants/{T}/grants on the tenant', expected: [401, 401, 401, 201, 201, 403, 404, 403, 403],
      call: async (f) => ({ method: 'POST', path: `${T(f)}/grants`, body: { principal: { type: 'user', id: await freshMember(f) }, role: 'viewer' } }) },
    // prettier-ignore
    { route: 'DELETE /v1/tenants/{T}/grants/{grant on W1}', expected: [401, 401, 401, 204, 204, 403, 404, 204, 404],
      call: async (f) => ({ method: 'DELETE', path: `${T(f)}/grants/${await freshGrant(f, f.w1.workspaceId)}` }) },
    // prettier-ignore
    { route: 'DELETE /v1/tenants/{T}/grants/{grant on the tenant}', expected: [401, 401, 401, 204, 204, 403, 404, 404, 404],
      call: async (f) => ({ method: 'DELETE', path: `${T(f)}/grants/${await freshGrant(f)}` }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/grants/{grant on W1}', expected: [401, 401, 401, 200, 200, 200, 404, 200, 404],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/grants/${await visibleGrant(f, f.w1.workspaceId)}` }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/grants/{grant on the tenant}', expected: [401, 401, 401, 200, 200, 200, 404, 404, 404],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/grants/${await visibleGrant(f)}` }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/grants', expected: [401, 401, 401, 200, 200, 200, 404, 200, 200],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/grants?limit=500` }) },
    // prettier-ignore
    { route: 'POST /v1/tenants/{T}/permissions/check on W1', expected: [401, 401, 401, 200, 200, 200, 404, 200, 404],
      call: async (f) => ({ method: 'POST', path: `${T(f)}/permissions/check`, body: check(f.w1.workspaceId) }) },
    // prettier-ignore
    { route: 'POST /v1/tenants/{T}/permissions/check (batch)', expected: [401, 401, 401, 200, 200, 200, 404, 200, 200],
      call: async (f) => ({ method: 'POST', path: `${T(f)}/permissions/check`, body: { checks: [check(f.w1.workspaceId), check(f.s.workspaceId), check()] } }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/principals/user/{member}/workspaces', expected: [401, 401, 401, 200, 200, 200, 404, 200, 200],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/principals/user/matrix-user/workspaces?permission=workspace.read` }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/workspaces/{W1}/access', expected: [401, 401, 401, 200, 200, 200, 404, 200, 404],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/workspaces/${f.w1.workspaceId}/access` }) },
    // prettier-ignore
    { route: 'GET /v1/events?tenantId={T}', expected: [401, 401, 401, 200, 200, 200, 404, 403, 403],
      call: async (f) => ({ method: 'GET', path: `/v1/events?tenantId=${f.t.tenantId}&limit=1000` }) },
    // prettier-ignore
    { route: 'GET /v1/events', expected: [401, 401, 401, 200, 403, 403, 403, 403, 403],
      call: async () => ({ method: 'GET', path: '/v1/events' }) },
    // prettier-ignore
    { route: 'GET /v1/events/schemas', expected: [401, 401, 401, 200, 200, 200, 200, 200, 200],
      call: async () => ({ method: 'GET', path: '/v1/events/schemas' }) },
    // prettier-ignore
    { route: 'GET /v1/events/stream?tenantId={T}', expected: [401, 401, 401, 200, 200, 200, 404, 403, 403], stream: true,
      call: async (f) => ({ method: 'GET', path: `/v1/events/stream?tenantId=${f.t.tenantId}` }) },
    // prettier-ignore
    { route: 'POST /v1/tenants/{T}/suspend', expected: [401, 401, 401, 200, 403, 403, 404, 403, 403],
      after: async (f) => reactivate(f),
      call: async () => ({ method: 'POST', path: `${T(fixture)}/suspend`, body: { reason: 'matrix' } }) },
    // prettier-ignore
    { route: 'POST /v1/tenants/{T}/reactivate', expected: [401, 401, 401, 200, 403, 403, 404, 403, 403],
      after: async (f) => reactivate(f),
      call: async (f) => {
        expect((await kit.http().post(`${T(f)}/suspend`).set(AUTH).send({ reason: 'matrix' })).status).toBe(200);
        return { method: 'POST', path: `${T(f)}/reactivate` };
      } },
    // prettier-ignore
    { route: 'PATCH /v1/tenants/{T}', expected: [401, 401, 401, 200, 403, 403, 404, 403, 403],
      after: async (f) => {
        expect((await kit.http().patch(T(f)).set(AUTH).send({ name: f.t.name })).status).toBe(200);
      },
      call: async (f) => ({ method: 'PATCH', path: T(f), body: { name: unique('Renamed tenant') } }) },
    // prettier-ignore
    { route: 'PUT /v1/tenants/{T}/quotas', expected: [401, 401, 401, 200, 403, 403, 404, 403, 403],
      call: async (f) => ({ method: 'PUT', path: `${T(f)}/quotas`, body: { maxGroups: 5_000 } }) },
    // prettier-ignore
    { route: 'GET /v1/tenants/{T}/quotas', expected: [401, 401, 401, 200, 200, 200, 404, 403, 403],
      call: async (f) => ({ method: 'GET', path: `${T(f)}/quotas` }) },
    // prettier-ignore
    { route: 'POST /v1/tenants/{T}/workspaces/{leaf in W1}/move to W', expected: [401, 401, 401, 200, 200, 403, 404, 200, 404],
      call: async (f) => ({ method: 'POST', path: `${T(f)}/workspaces/${await freshLeaf(f)}/move`, body: { parentWorkspaceId: f.w.workspaceId } }) },
    // prettier-ignore
    { route: 'POST /v1/tenants/{T}/workspaces/{leaf in W1}/move to S', expected: [401, 401, 401, 200, 200, 403, 404, 404, 404],
      call: async (f) => ({ method: 'POST', path: `${T(f)}/workspaces/${await freshLeaf(f)}/move`, body: { parentWorkspaceId: f.s.workspaceId } }) },
    // prettier-ignore
    { route: 'POST /v1/tenants/{T}/members/{member}/erase', expected: [401, 401, 401, 200, 200, 403, 404, 403, 403],
      call: async (f) => ({ method: 'POST', path: `${T(f)}/members/${await freshMember(f)}/erase` }) },
    // prettier-ignore
    { route: 'DELETE /v1/tenants/{T}', expected: [401, 401, 401, 202, 403, 403, 404, 403, 403], operatorLast: true,
      call: async (f) => ({ method: 'DELETE', path: T(f) }) },
  ];

  beforeAll(async () => {
    app = await startTestApp();
    await new Promise<void>((resolve) => app.server.listen(0, resolve));
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    const t = await kit.createTenant('Tenant T');
    const u = await kit.createTenant('Tenant U');
    const w = await kit.createWorkspace(t.tenantId, 'W');
    const w1 = await kit.createWorkspace(t.tenantId, 'W1', w.workspaceId);
    const s = await kit.createWorkspace(t.tenantId, 'S');
    const admin = await kit.issueKey(t.tenantId, 'admin');
    const reader = await kit.issueKey(t.tenantId, 'reader');
    const otherAdmin = await kit.issueKey(u.tenantId, 'admin');
    const wsIn = await kit.issueKey(t.tenantId, 'admin', w.workspaceId);
    const wsOut = await kit.issueKey(t.tenantId, 'admin', s.workspaceId);
    const revoked = await kit.issueKey(t.tenantId, 'admin');
    await kit.revokeKey(t.tenantId, revoked.apiKeyId);
    const tenantPath = `/v1/tenants/${t.tenantId}`;
    expect((await kit.http().put(`${tenantPath}/members/matrix-user`).set(AUTH).send({})).status).toBe(201);
    const group = await kit.http().post(`${tenantPath}/groups`).set(AUTH).send({ name: 'Matrix group' });
    const groupId = (group.body as { groupId: string }).groupId;
    await kit.http().put(`${tenantPath}/groups/${groupId}/members/matrix-user`).set(AUTH);
    await kit
      .http()
      .post(`${tenantPath}/grants`)
      .set(AUTH)
      .send({ principal: { type: 'user', id: 'matrix-user' }, role: 'viewer' });
    await kit.readModelAt(revoked.position);
    await kit.settle();
    fixture = {
      t,
      u,
      w,
      w1,
      s,
      group: groupId,
      auth: {
        none: {},
        wrong: bearer(`${API_KEY_SECRET_PREFIX}${'x'.repeat(43)}`),
        revoked: revoked.auth,
        operator: AUTH,
        admin: admin.auth,
        reader: reader.auth,
        'other-admin': otherAdmin.auth,
        'ws-in': wsIn.auth,
        'ws-out': wsOut.auth,
      },
      keyIds: [admin, reader, otherAdmin, wsIn, wsOut, revoked].map((key) => key.apiKeyId),
    };
  });
  afterAll(async () => {
    await app.close();
  });

  /** Ids and names of the fixture: a refusal may echo what the caller sent, nothing else. */
  const markersOf = (f: Fixture): string[] => [
    f.t.tenantId,
    f.t.name,
    f.t.rootWorkspaceId,
    f.u.tenantId,
    f.u.name,
    f.u.rootWorkspaceId,
    f.w.workspaceId,
    f.w.name,
    f.w1.workspaceId,
    f.w1.name,
    f.s.workspaceId,
    f.s.name,
    ...f.keyIds,
  ];

  const send = async (call: Call, auth: Record<string, string>, stream: boolean) => {
    if (stream) {
      // Status and headers only: the stream itself never ends on its own.
      const abort = new AbortController();
      const response = await fetch(baseUrl + call.path, { headers: auth, signal: abort.signal });
      const contentType = response.headers.get('content-type') ?? '';
      const text = response.ok ? '' : await response.text();
      abort.abort();
      return { status: response.status, text, contentType };
    }
    let pending = kit
      .http()
      [
        call.method === 'GET'
          ? 'get'
          : call.method === 'POST'
            ? 'post'
            : call.method === 'PUT'
              ? 'put'
              : call.method === 'PATCH'
                ? 'patch'
                : 'delete'
      ](call.path)
      .set(auth);
    if (call.body) pending = pending.send(call.body);
    const response = await pending;
    return {
      status: response.status,
      text: response.text ?? '',
      contentType: String(response.headers['content-type'] ?? ''),
      body: response.body as unknown,
    };
  };

  // Before the table's rows: the last of them deletes the fixture's tenant.
  it('every /v1 route refuses a query or body field it does not declare with 400, naming it, and changes nothing', async () => {
    const wrong: string[] = [];
    for (const row of ROWS) {
      const call = await row.call(fixture);
      const withQuery = { ...call, path: `${call.path}${call.path.includes('?') ? '&' : '?'}zzz=1` };
      const withBody = { ...call, body: { ...(call.body ?? {}), zzz: 1 } };
      const tries =
        call.method === 'GET'
          ? [['query', withQuery]]
          : [
              ['query', withQuery],
              ['body', withBody],
            ];
      for (const [where, attempt] of tries as [string, Call][]) {
        const before = await kit.logLength();
        const response = await send(attempt, AUTH, false);
        const after = await kit.logLength();
        const body = response.body as { code?: string; errors?: { field: string }[] } | undefined;
        if (
          response.status !== 400 ||
          body?.code !== 'VALIDATION_FAILED' ||
          JSON.stringify(body.errors?.map((error) => error.field)) !== '["zzz"]' ||
          after !== before
        )
          wrong.push(
            `${row.route} with zzz in the ${where}: ${response.status} ${response.text.slice(0, 120)}, log ${before} -> ${after}`,
          );
      }
      await row.after?.(fixture);
    }
    expect(wrong).toEqual([]);
  });

  it('a /v1 path spelt in another case or with a trailing slash reaches no route: no key, a reader key, another tenant key or the operator gets 404 and changes nothing', async () => {
    const respelt = (path: string): string[] => [
      path.replace(/^\/v1\//, '/V1/'),
      path.replace(/^\/v1\/([a-z])/, (_all, letter: string) => `/v1/${letter.toUpperCase()}`),
      // A client resolving `…/members/..` sends the tenant's path with a slash after it.
      path.replace(/(\?|$)/, '/$1'),
    ];
    const wrong: string[] = [];
    for (const row of ROWS) {
      const call = await row.call(fixture);
      for (const path of respelt(call.path)) {
        for (const caller of ['none', 'reader', 'other-admin', 'operator'] as const) {
          const before = await kit.logLength();
          const response = await send({ ...call, path }, fixture.auth[caller], row.stream === true);
          const after = await kit.logLength();
          const code = /"code":"([A-Z_]+)"/.exec(response.text)?.[1];
          if (response.status !== 404 || code !== 'ROUTE_NOT_FOUND' || after !== before)
            wrong.push(
              `${call.method} ${path} as ${caller}: ${response.status} ${code ?? ''}, log ${before} -> ${after}`,
            );
        }
      }
      await row.after?.(fixture);
    }
    expect(wrong).toEqual([]);
  });

  it.each(ROWS.map((row) => [row.route, row] as const))(
    '%s: every caller as the table says; refusals change nothing and leak nothing',
    async (_route, row) => {
      const mismatches: string[] = [];
      const leaks: string[] = [];
      {
        const order = row.operatorLast
          ? [...CALLERS.filter((caller) => caller !== 'operator'), 'operator' as const]
          : CALLERS;
        for (const caller of order) {
          const expected = row.expected[CALLERS.indexOf(caller)];
          const call = await row.call(fixture);
          const before = await kit.logLength();
          const response = await send(call, fixture.auth[caller], row.stream === true);
          const cell = `${row.route} as ${caller}`;
          if (response.status !== expected)
            mismatches.push(`${cell}: ${response.status}, expected ${expected}`);
          const succeeded = response.status < 300;
          if (succeeded && row.reactsLater) await kit.settle();
          if (!succeeded || call.method === 'GET') {
            // Counted before the fixture is put back.
            const after = await kit.logLength();
            if (after !== before) mismatches.push(`${cell}: the log grew from ${before} to ${after}`);
          }
          if (!succeeded) {
            expect(response.contentType).toMatch(/^application\/problem\+json/);
            const sent = call.path + JSON.stringify(call.body ?? {});
            for (const marker of markersOf(fixture)) {
              if (!sent.includes(marker) && response.text.includes(marker)) leaks.push(`${cell}: ${marker}`);
            }
          }
          if (
            succeeded &&
            (caller === 'ws-in' || caller === 'ws-out') &&
            row.route.startsWith('GET /v1/tenants/{T}/workspaces') &&
            !row.route.endsWith('/access')
          ) {
            const subtreeTop = caller === 'ws-in' ? fixture.w.workspaceId : fixture.s.workspaceId;
            const items = (response as { body?: { items?: { path: string[] }[] } }).body?.items ?? [];
            for (const item of items) {
              if (!item.path.includes(subtreeTop)) leaks.push(`${cell}: listed ${JSON.stringify(item)}`);
            }
          }
          if (succeeded && (caller === 'ws-in' || caller === 'ws-out') && row.route.includes('/grants')) {
            // A workspace key lists only grants on its subtree: none on the tenant, none on the other branch.
            const other = caller === 'ws-in' ? fixture.s.workspaceId : fixture.w.workspaceId;
            const items =
              (response as { body?: { items?: { workspaceId: string | null }[] } }).body?.items ?? [];
            for (const item of items) {
              if (item.workspaceId === null || item.workspaceId === other)
                leaks.push(`${cell}: listed ${JSON.stringify(item)}`);
            }
          }
          if (succeeded && caller === 'ws-out' && row.route.includes('(batch)')) {
            // Checks outside its subtree answer as if the workspace did not exist.
            const results = (response as { body?: { results?: { code?: string }[] } }).body?.results ?? [];
            if (results[0]?.code !== 'WORKSPACE_NOT_FOUND' || results[2]?.code !== 'WORKSPACE_NOT_FOUND')
              leaks.push(`${cell}: answered ${JSON.stringify(results)}`);
          }
          await row.after?.(fixture);
        }
      }
      expect(mismatches).toEqual([]);
      expect(leaks).toEqual([]);
    },
  );

  it('has a row for every /v1 route of the OpenAPI document', async () => {
    const document = await kit.http().get('/openapi.json');
    const paths = document.body as { paths: Record<string, Record<string, unknown>> };
    const covered = ROWS.map((row) => {
      const [method = '', path = ''] = row.route.replace(/\{[^}]*\}/g, '{}').split(' ');
      return { method, segments: path.split('?')[0]!.split('/') };
    });
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(paths.paths)) {
      if (!path.startsWith('/v1/')) continue;
      const segments = path.split('/');
      for (const method of Object.keys(operations).map((name) => name.toUpperCase())) {
        const matched = covered.some(
          (row) =>
            row.method === method &&
            row.segments.length === segments.length &&
            segments.every((segment, index) => segment.startsWith('{') || segment === row.segments[index]),
        );
        if (!matched) missing.push(`${method} ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

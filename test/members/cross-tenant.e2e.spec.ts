import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { accessFixture } from '../access/access-fixture.js';

interface Ids {
  readonly user: string;
  readonly group: string;
  readonly grant: string;
  readonly workspace: string;
  readonly apiKey: string;
}

interface Call {
  readonly route: string;
  readonly method: 'get' | 'put' | 'post' | 'patch' | 'delete';
  readonly path: (ids: Ids) => string;
  readonly body?: (ids: Ids) => object;
}

/**
 * Every membership route, asked by tenant T's admin key about ids that exist only in tenant U, must
 * answer exactly what it answers about ids that exist nowhere: same status, same code, same body
 * once the id itself (and the position and time of the answer) are blanked out.
 */
describe("cross-tenant: another tenant's ids answer exactly like unknown ones", () => {
  let app: TestApp;
  const kit = accessFixture(() => app);
  const http = () => request(app.server);
  let t: string;
  let u: string;
  let admin: Record<string, string>;
  let U: string;

  beforeAll(async () => {
    app = await startTestApp();
    t = (await kit.createTenant('Tenant T')).tenantId;
    const tenantU = await kit.createTenant('Tenant U');
    u = tenantU.tenantId;
    admin = (await kit.issueKey(t, 'admin')).auth;
    U = `/v1/tenants/${u}`;
  });
  afterAll(async () => {
    await app.close();
  });

  /** Fresh ids that exist in tenant U only: a call that creates something in T cannot spoil the next. */
  const foreignIds = async (): Promise<Ids> => {
    const user = `u-only-${randomUUID().slice(0, 8)}`;
    const workspace = await kit.createWorkspace(u, 'Secret');
    await http().put(`${U}/members/${user}`).set(AUTH).send({});
    const group = (
      await http()
        .post(`${U}/groups`)
        .set(AUTH)
        .send({ name: `U ${user}` })
    ).body as { groupId: string };
    await http().put(`${U}/groups/${group.groupId}/members/${user}`).set(AUTH);
    const grant = (
      await http()
        .post(`${U}/grants`)
        .set(AUTH)
        .send({ principal: { type: 'user', id: user }, role: 'editor', workspaceId: workspace.workspaceId })
    ).body as { grantId: string };
    const key = await kit.issueKey(u, 'reader');
    await kit.readModelAt(key.position);
    return {
      user,
      group: group.groupId,
      grant: grant.grantId,
      workspace: workspace.workspaceId,
      apiKey: key.apiKeyId,
    };
  };

  const unknown = (): Ids => ({
    user: `nobody-${randomUUID().slice(0, 8)}`,
    group: randomUUID(),
    grant: randomUUID(),
    workspace: randomUUID(),
    apiKey: randomUUID(),
  });

  const CALLS: readonly Call[] = [
    { route: 'PUT members/{user}', method: 'put', path: (i) => `members/${i.user}`, body: () => ({}) },
    { route: 'GET members/{user}', method: 'get', path: (i) => `members/${i.user}` },
    { route: 'DELETE members/{user}', method: 'delete', path: (i) => `members/${i.user}-gone` },
    { route: 'GET groups/{group}', method: 'get', path: (i) => `groups/${i.group}` },
    {
      route: 'PATCH groups/{group}',
      method: 'patch',
      path: (i) => `groups/${i.group}`,
      body: () => ({ name: 'x' }),
    },
    { route: 'DELETE groups/{group}', method: 'delete', path: (i) => `groups/${i.group}` },
    { route: 'GET groups/{group}/members', method: 'get', path: (i) => `groups/${i.group}/members` },
    {
      route: 'PUT groups/{group}/members/{user}',
      method: 'put',
      path: (i) => `groups/${i.group}/members/${i.user}`,
    },
    {
      route: 'DELETE groups/{group}/members/{user}',
      method: 'delete',
      path: (i) => `groups/${i.group}/members/${i.user}`,
    },
    {
      route: 'POST groups with {groupId}',
      method: 'post',
      path: () => 'groups',
      body: (i) => ({ name: `Copy ${i.group}`, groupId: i.group }),
    },
    {
      route: 'POST grants to {group}',
      method: 'post',
      path: () => 'grants',
      body: (i) => ({ principal: { type: 'group', id: i.group }, role: 'viewer' }),
    },
    {
      route: 'POST grants to {apiKey}',
      method: 'post',
      path: () => 'grants',
      body: (i) => ({ principal: { type: 'apiKey', id: i.apiKey }, role: 'viewer' }),
    },
    {
      route: 'POST grants to {user}',
      method: 'post',
      path: () => 'grants',
      body: (i) => ({ principal: { type: 'user', id: i.user }, role: 'viewer' }),
    },
    {
      route: 'POST grants on {workspace}',
      method: 'post',
      path: () => 'grants',
      body: (i) => ({
        principal: { type: 'user', id: 'member-of-t' },
        role: 'viewer',
        workspaceId: i.workspace,
      }),
    },
    { route: 'DELETE grants/{grant}', method: 'delete', path: (i) => `grants/${i.grant}` },
    {
      route: 'GET grants?principalId={user}',
      method: 'get',
      path: (i) => `grants?principalType=user&principalId=${i.user}`,
    },
    {
      route: 'GET grants?workspaceId={workspace}',
      method: 'get',
      path: (i) => `grants?workspaceId=${i.workspace}`,
    },
    {
      route: 'POST permissions/check on {workspace}',
      method: 'post',
      path: () => 'permissions/check',
      body: (i) => ({
        principal: { type: 'user', id: 'member-of-t' },
        permission: 'workspace.read',
        workspaceId: i.workspace,
      }),
    },
    {
      route: 'POST permissions/check of {user}',
      method: 'post',
      path: () => 'permissions/check',
      body: (i) => ({ principal: { type: 'user', id: i.user }, permission: 'workspace.read' }),
    },
    {
      route: 'POST permissions/check batch of {group} on {workspace}',
      method: 'post',
      path: () => 'permissions/check',
      body: (i) => ({
        checks: [
          { principal: { type: 'group', id: i.group }, permission: 'workspace.read' },
          {
            principal: { type: 'apiKey', id: i.apiKey },
            permission: 'workspace.read',
            workspaceId: i.workspace,
          },
        ],
      }),
    },
    {
      route: 'GET principals/user/{user}/workspaces',
      method: 'get',
      path: (i) => `principals/user/${i.user}/workspaces?permission=workspace.read`,
    },
    {
      route: 'GET principals/group/{group}/workspaces',
      method: 'get',
      path: (i) => `principals/group/${i.group}/workspaces?permission=workspace.read`,
    },
    {
      route: 'GET workspaces/{workspace}/access',
      method: 'get',
      path: (i) => `workspaces/${i.workspace}/access`,
    },
  ];

  const send = async (tenantId: string, call: Call, ids: Ids) => {
    let pending = http()
      [call.method](`/v1/tenants/${tenantId}/${call.path(ids)}`)
      .set(admin);
    if (call.body) pending = pending.send(call.body(ids));
    const response = await pending;
    return { status: response.status, body: blank(response.text, ids) };
  };

  /** The answer with the ids asked about, and the moment and place it was answered at, blanked out. */
  const blank = (text: string, ids: Ids): string =>
    Object.values(ids)
      .reduce((result, id) => result.split(id).join('<id>'), text)
      .replace(
        /"(position|revision|createdAt|updatedAt|addedAt|grantId|groupId)":("[^"]*"|\d+|null)/g,
        '"$1":"…"',
      );

  beforeAll(async () => {
    await http().put(`/v1/tenants/${t}/members/member-of-t`).set(AUTH).send({});
  });

  it.each(CALLS.map((call) => [call.route, call] as const))('%s', async (_route, call) => {
    const viaForeign = await send(t, call, await foreignIds());
    const viaUnknown = await send(t, call, unknown());
    expect(viaForeign).toEqual(viaUnknown);
    // Asked and answered, not refused as malformed or failed: the comparison means something.
    expect([200, 201, 204, 404]).toContain(viaForeign.status);
  });

  it("every route of tenant U itself answers T's key exactly as a tenant that does not exist", async () => {
    const differences: string[] = [];
    const foreign = await foreignIds();
    for (const call of CALLS) {
      const viaForeign = await send(u, call, foreign);
      const viaUnknown = await send(randomUUID(), call, foreign);
      if (viaForeign.status !== 404) differences.push(`${call.route}: ${viaForeign.status}`);
      if (viaForeign.body.replace(u, '') !== viaUnknown.body.replace(/No tenant [0-9a-f-]+/, 'No tenant ')) {
        const normalise = (body: string) => body.replace(/No tenant [0-9a-f-]{36}/, 'No tenant <tenant>');
        if (normalise(viaForeign.body) !== normalise(viaUnknown.body))
          differences.push(`${call.route}: ${viaForeign.body}`);
      }
    }
    expect(differences).toEqual([]);
  });
});

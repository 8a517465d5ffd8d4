import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { encodeCursor } from '../../src/application/queries/keyset-cursor.js';
import { apiKeyGrantIdOf, initialAdminGrantIdOf } from '../../src/tenancy/api-key-grants.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { accessFixture } from '../access/access-fixture.js';

/** The membership API as a client uses it: members, groups, grants, checks and lookups. */
describe('members, groups and grants over HTTP', () => {
  let app: TestApp;
  const kit = accessFixture(() => app);
  const http = () => request(app.server);
  let tenantId: string;
  let rootId: string;
  let T: string;

  beforeAll(async () => {
    app = await startTestApp();
    const response = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: 'Members Co', adminUserId: 'auth0|alice' });
    expect(response.status).toBe(201);
    ({ tenantId, rootWorkspaceId: rootId } = response.body as { tenantId: string; rootWorkspaceId: string });
    T = `/v1/tenants/${tenantId}`;
    await kit.settle();
  });
  afterAll(async () => {
    await app.close();
  });

  it('starts a tenant created with adminUserId with that admin, listed once the read model has it', async () => {
    const created = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: 'Second Co', adminUserId: 'bob' });
    const position = (created.body as { position: string }).position;
    const other = `/v1/tenants/${(created.body as { tenantId: string }).tenantId}`;
    const members = await http().get(`${other}/members`).set(AUTH).set('Min-Position', position);
    expect(members.status).toBe(200);
    expect((members.body as { items: { userId: string }[] }).items.map((item) => item.userId)).toEqual([
      'bob',
    ]);
    const grants = await http().get(`${other}/grants`).set(AUTH).set('Min-Position', position);
    expect((grants.body as { items: unknown[] }).items).toEqual([
      expect.objectContaining({
        grantId: initialAdminGrantIdOf((created.body as { tenantId: string }).tenantId),
        principal: { type: 'user', id: 'bob' },
        role: 'admin',
        workspaceId: null,
        origin: 'grant',
      }),
    ]);
    const bad = await http().post('/v1/tenants').set(AUTH).send({ name: 'Third Co', adminUserId: 'bad id' });
    expect(bad.status).toBe(400);
    // Its root's bootstrap must not land in a later test's count of the log.
    await kit.settle();
  });

  it('adds a member with PUT (201, then 200), changes its display name, removes it (204, then 404)', async () => {
    const first = await http().put(`${T}/members/carol@example.com`).set(AUTH).send({ displayName: 'Carol' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ tenantId, userId: 'carol@example.com', displayName: 'Carol' });
    expect((await http().put(`${T}/members/carol@example.com`).set(AUTH).send({})).status).toBe(200);
    const renamed = await http().put(`${T}/members/carol@example.com`).set(AUTH).send({ displayName: 'C.' });
    expect(renamed.status).toBe(200);
    const detail = await http()
      .get(`${T}/members/carol@example.com`)
      .set(AUTH)
      .set('Min-Position', (renamed.body as { position: string }).position);
    expect(detail.body).toMatchObject({ userId: 'carol@example.com', displayName: 'C.', groups: [] });
    expect((await http().delete(`${T}/members/carol@example.com`).set(AUTH)).status).toBe(204);
    const again = await http().delete(`${T}/members/carol@example.com`).set(AUTH);
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ code: 'MEMBER_NOT_FOUND' });
    expect((await http().put(`${T}/members/not%20ok`).set(AUTH).send({})).status).toBe(400);
  });

  it("refuses '.' and '..' as a new member's id: a URL resolves them away, and removing member '..' with fetch deleted the tenant", async () => {
    const before = await kit.logLength();
    for (const segment of ['.', '..', '%2E', '%2e%2E']) {
      // Sent as written (supertest does not resolve dot segments; fetch and browsers do).
      const added = await http().put(`${T}/members/${segment}`).set(AUTH).send({});
      expect({ segment, status: added.status, body: added.body as unknown }).toEqual({
        segment,
        status: 400,
        body: expect.objectContaining({
          code: 'VALIDATION_FAILED',
          errors: [{ field: 'userId', message: expect.stringContaining('must not be . or ..') }],
        }),
      });
    }
    for (const adminUserId of ['.', '..']) {
      const created = await http()
        .post('/v1/tenants')
        .set(AUTH)
        .send({ name: `Dots ${randomUUID().slice(0, 8)}`, adminUserId });
      expect({ adminUserId, status: created.status, body: created.body as unknown }).toEqual({
        adminUserId,
        status: 400,
        body: expect.objectContaining({
          errors: [{ field: 'adminUserId', message: expect.stringContaining('must not be . or ..') }],
        }),
      });
    }
    expect(await kit.logLength()).toBe(before);
    // Dots elsewhere are ordinary characters of an id.
    for (const userId of ['...', '.x', 'x..']) {
      expect((await http().put(`${T}/members/${userId}`).set(AUTH).send({})).status).toBe(201);
      expect((await http().delete(`${T}/members/${userId}`).set(AUTH)).status).toBe(204);
    }
  });

  it('adds only with If-None-Match: * and changes only with If-Match: * (RFC 9110 13.1), one winner in a race', async () => {
    const userId = `only-${randomUUID().slice(0, 8)}`;
    const member = `${T}/members/${userId}`;
    const before = await kit.logLength();
    const notYet = await http().put(member).set(AUTH).set('If-Match', '*').send({ displayName: 'Ann' });
    expect({ status: notYet.status, code: (notYet.body as { code?: string }).code }).toEqual({
      status: 412,
      code: 'PRECONDITION_FAILED',
    });
    expect(await kit.logLength()).toBe(before);
    // Eight clients add the same user at once, each only if absent: one adds, the others are told.
    const racing = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        http()
          .put(member)
          .set(AUTH)
          .set('If-None-Match', '*')
          .send({ displayName: `Racer ${index}` }),
      ),
    );
    expect(racing.map((response) => response.status).sort()).toEqual([
      201, 412, 412, 412, 412, 412, 412, 412,
    ]);
    const winner = racing.find((response) => response.status === 201)!.body as {
      displayName: string;
      position: string;
    };
    expect(await kit.logLength()).toBe(before + 1);
    const changed = await http().put(member).set(AUTH).set('If-Match', '*').send({ displayName: 'Changed' });
    expect(changed.status).toBe(200);
    const shown = await http()
      .get(member)
      .set(AUTH)
      .set('Min-Position', (changed.body as { position: string }).position);
    expect((shown.body as { displayName: string }).displayName).toBe('Changed');
    expect(winner.displayName).toMatch(/^Racer [0-7]$/);
    // Where If-None-Match cannot be honoured on a write it is refused, never ignored.
    const after = await kit.logLength();
    for (const [method, path, ifNoneMatch, body] of [
      ['put', member, '"3"', {}],
      ['patch', T, '*', { name: `Renamed ${randomUUID().slice(0, 8)}` }],
      ['post', `${T}/workspaces`, '*', { name: 'Never' }],
      ['delete', member, '*', undefined],
      [
        'post',
        `${T}/permissions/check`,
        '*',
        {
          checks: [
            {
              principal: { type: 'user', id: 'auth0|alice' },
              permission: 'workspace.read',
              workspaceId: rootId,
            },
          ],
        },
      ],
    ] as const) {
      const refused = await http()[method](path).set(AUTH).set('If-None-Match', ifNoneMatch).send(body);
      expect({
        method,
        status: refused.status,
        errors: (refused.body as { errors?: unknown }).errors,
      }).toEqual({
        method,
        status: 400,
        errors: [{ field: 'If-None-Match', message: expect.stringContaining('*') }],
      });
    }
    expect(await kit.logLength()).toBe(after);
  });

  it('adds to a group only with If-None-Match: *, and If-Match: * holds only for a user in the group', async () => {
    const userId = `grouped-${randomUUID().slice(0, 8)}`;
    expect((await http().put(`${T}/members/${userId}`).set(AUTH).send({})).status).toBe(201);
    const group = await http()
      .post(`${T}/groups`)
      .set(AUTH)
      .send({ name: `Only ${randomUUID().slice(0, 8)}` });
    const inGroup = `${T}/groups/${(group.body as { groupId: string }).groupId}/members/${userId}`;
    const before = await kit.logLength();
    const notYet = await http().put(inGroup).set(AUTH).set('If-Match', '*');
    expect({ status: notYet.status, code: (notYet.body as { code?: string }).code }).toEqual({
      status: 412,
      code: 'PRECONDITION_FAILED',
    });
    expect(await kit.logLength()).toBe(before);
    const racing = await Promise.all(
      Array.from({ length: 4 }, () => http().put(inGroup).set(AUTH).set('If-None-Match', '*')),
    );
    expect(racing.map((response) => response.status).sort()).toEqual([201, 412, 412, 412]);
    expect((await http().put(inGroup).set(AUTH).set('If-Match', '*')).status).toBe(200);
    expect(await kit.logLength()).toBe(before + 1);
  });

  it('adds a member with a PUT that has no body at all, as with an empty object', async () => {
    const added = await http().put(`${T}/members/dave`).set(AUTH);
    expect({ status: added.status, body: added.body as unknown }).toEqual({
      status: 201,
      body: expect.objectContaining({ tenantId, userId: 'dave', displayName: null }),
    });
    expect((await http().put(`${T}/members/dave`).set(AUTH)).status).toBe(200);
    // A body that is there must still be an object.
    const notObject = await http()
      .put(`${T}/members/dave`)
      .set(AUTH)
      .set('Content-Type', 'application/json')
      .send('null');
    expect(notObject.status).toBe(400);
    expect((await http().delete(`${T}/members/dave`).set(AUTH)).status).toBe(204);
    // Only where the DTO says so: a bodiless PUT of the quotas would reset every one of them.
    const quotas = await http().put(`${T}/quotas`).set(AUTH);
    expect({ status: quotas.status, errors: (quotas.body as { errors?: unknown }).errors }).toEqual({
      status: 400,
      errors: [{ field: '(body)', message: 'must be a JSON object' }],
    });
  });

  it('lists the grants on a workspace, and answers 404 for a workspace the tenant does not have', async () => {
    const onRoot = await http().get(`${T}/grants?workspaceId=${rootId}`).set(AUTH);
    expect(onRoot.status).toBe(200);
    const unknown = await http().get(`${T}/grants?workspaceId=${randomUUID()}`).set(AUTH);
    expect({ status: unknown.status, code: (unknown.body as { code?: string }).code }).toEqual({
      status: 404,
      code: 'WORKSPACE_NOT_FOUND',
    });
  });

  it('takes back every cursor it hands out, also after the longest user ids, and refuses forged ones with 400', async () => {
    const longIds = ['a', 'b', 'c'].map((letter) => `${letter}${'x'.repeat(254)}`);
    // A tenant of its own: the other tests here count this one's members and grants.
    const tenant = await kit.createTenant('Long ids');
    const T = `/v1/tenants/${tenant.tenantId}`;
    const rootId = tenant.rootWorkspaceId;
    const group = await http().post(`${T}/groups`).set(AUTH).send({ name: 'Long ids' });
    const groupId = (group.body as { groupId: string }).groupId;
    let position = '';
    for (const userId of longIds) {
      expect((await http().put(`${T}/members/${userId}`).set(AUTH).send({})).status).toBe(201);
      expect((await http().put(`${T}/groups/${groupId}/members/${userId}`).set(AUTH)).status).toBe(201);
      const granted = await http()
        .post(`${T}/grants`)
        .set(AUTH)
        .send({ principal: { type: 'user', id: userId }, role: 'viewer', workspaceId: rootId });
      expect(granted.status).toBe(201);
      position = (granted.body as { position: string }).position;
    }
    /** Walks a list a page of one at a time: every id ends a page, so every cursor carries one. */
    const walk = async (path: string, idOf: (item: Record<string, unknown>) => unknown) => {
      const seen: unknown[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 50; page++) {
        const answer = await http()
          .get(`${path}?limit=1${cursor === null ? '' : `&cursor=${cursor}`}`)
          .set(AUTH)
          .set('Min-Position', position);
        expect({ path, status: answer.status, body: answer.status === 200 ? null : answer.body }).toEqual({
          path,
          status: 200,
          body: null,
        });
        const body = answer.body as { items: Record<string, unknown>[]; nextCursor: string | null };
        seen.push(...body.items.map(idOf));
        cursor = body.nextCursor;
        if (cursor === null) break;
      }
      return seen;
    };
    expect(await walk(`${T}/members`, (item) => item.userId)).toEqual(expect.arrayContaining(longIds));
    expect(await walk(`${T}/groups/${groupId}/members`, (item) => item.userId)).toEqual(longIds);
    expect(
      await walk(`${T}/workspaces/${rootId}/access`, (item) => (item.principal as { id: string }).id),
    ).toEqual(expect.arrayContaining(longIds));
    // A cursor of the right shape and listing whose key is no id of that list's kind (the listing's
    // tag is no secret: a client can compute it), and one without the tag.
    const zero = `${'0'.repeat(16)}-${'0'.repeat(16)}`;
    const listings: [string, string][] = [
      [`${T}/groups`, `groups ${tenant.tenantId}`],
      [`${T}/grants`, `grants ${tenant.tenantId} {}`],
      [`${T}/members`, `members ${tenant.tenantId}`],
      [`${T}/groups/${groupId}/members`, `group-members ${tenant.tenantId} ${groupId}`],
    ];
    for (const [path, listing] of listings) {
      const untagged = Buffer.from(`${zero}.not-a-uuid`, 'utf8').toString('base64url');
      expect((await http().get(`${path}?cursor=${untagged}`).set(AUTH)).status).toBe(400);
      const forged = encodeCursor({ position: zero, id: 'not-a-uuid' }, listing);
      const answer = await http().get(`${path}?cursor=${forged}`).set(AUTH);
      expect({ path, status: answer.status, body: answer.body as unknown }).toMatchObject({
        path,
        status: path.endsWith('/members') ? 200 : 400,
        body: path.endsWith('/members') ? {} : { code: 'VALIDATION_FAILED', errors: [{ field: 'cursor' }] },
      });
    }
  });

  it('manages groups and their members', async () => {
    await http().put(`${T}/members/dave`).set(AUTH).send({});
    const created = await http().post(`${T}/groups`).set(AUTH).send({ name: 'Ops' });
    expect(created.status).toBe(201);
    const groupId = (created.body as { groupId: string }).groupId;
    expect((await http().post(`${T}/groups`).set(AUTH).send({ name: 'ops', groupId })).status).toBe(200);
    expect((await http().post(`${T}/groups`).set(AUTH).send({ name: 'OPS' })).body).toMatchObject({
      code: 'GROUP_NAME_TAKEN',
    });
    expect((await http().put(`${T}/groups/${groupId}/members/dave`).set(AUTH)).status).toBe(201);
    const repeat = await http().put(`${T}/groups/${groupId}/members/dave`).set(AUTH);
    expect(repeat.status).toBe(200);
    const members = await http()
      .get(`${T}/groups/${groupId}/members`)
      .set(AUTH)
      .set('Min-Position', (repeat.body as { position: string }).position);
    expect((members.body as { items: { userId: string }[] }).items.map((item) => item.userId)).toEqual([
      'dave',
    ]);
    const group = await http().get(`${T}/groups/${groupId}`).set(AUTH);
    expect(group.body).toMatchObject({ name: 'Ops', memberCount: 1 });
    expect((await http().patch(`${T}/groups/${groupId}`).set(AUTH).send({ name: 'Operations' })).status).toBe(
      200,
    );
    expect((await http().delete(`${T}/groups/${groupId}/members/dave`).set(AUTH)).status).toBe(204);
    expect((await http().delete(`${T}/groups/${groupId}`).set(AUTH)).status).toBe(204);
    expect((await http().delete(`${T}/groups/${groupId}`).set(AUTH)).status).toBe(404);
  });

  it('grants and revokes roles, refuses to lose the last admin, and checks answer at once', async () => {
    const workspace = await kit.createWorkspace(tenantId, 'Projects');
    await http().put(`${T}/members/erin`).set(AUTH).send({});
    const granted = await http()
      .post(`${T}/grants`)
      .set(AUTH)
      .send({ principal: { type: 'user', id: 'erin' }, role: 'editor', workspaceId: workspace.workspaceId });
    expect(granted.status).toBe(201);
    const grant = granted.body as { grantId: string; position: string };
    const repeat = await http()
      .post(`${T}/grants`)
      .set(AUTH)
      .send({ principal: { type: 'user', id: 'erin' }, role: 'editor', workspaceId: workspace.workspaceId });
    expect(repeat.status).toBe(200);
    expect((repeat.body as { grantId: string }).grantId).toBe(grant.grantId);

    const check = await http()
      .post(`${T}/permissions/check`)
      .set(AUTH)
      .send({
        principal: { type: 'user', id: 'erin' },
        permission: 'workspace.write',
        workspaceId: workspace.workspaceId,
      });
    expect(check.status).toBe(200);
    expect(check.body).toEqual({
      allowed: true,
      role: 'editor',
      via: { grantId: grant.grantId, workspaceId: workspace.workspaceId },
      revision: expect.any(Number),
      position: grant.position,
    });
    const batch = await http()
      .post(`${T}/permissions/check`)
      .set(AUTH)
      .send({
        checks: [
          {
            principal: { type: 'user', id: 'erin' },
            permission: 'workspace.delete',
            workspaceId: workspace.workspaceId,
          },
          { principal: { type: 'user', id: 'erin' }, permission: 'workspace.read', workspaceId: rootId },
          { principal: { type: 'user', id: 'auth0|alice' }, permission: 'keys.manage' },
          {
            principal: { type: 'user', id: 'erin' },
            permission: 'workspace.read',
            workspaceId: '00000000-0000-4000-8000-000000000000',
          },
        ],
      });
    expect(batch.status).toBe(200);
    expect((batch.body as { results: unknown[] }).results).toEqual([
      { allowed: false, role: 'editor', via: { grantId: grant.grantId, workspaceId: workspace.workspaceId } },
      { allowed: false },
      { allowed: true, role: 'admin', via: { grantId: initialAdminGrantIdOf(tenantId), workspaceId: null } },
      { allowed: false, code: 'WORKSPACE_NOT_FOUND' },
    ]);

    const lookup = await http()
      .get(`${T}/principals/user/erin/workspaces?permission=workspace.write`)
      .set(AUTH);
    expect(lookup.status).toBe(200);
    expect(
      (lookup.body as { items: { workspaceId: string }[] }).items.map((item) => item.workspaceId),
    ).toEqual([workspace.workspaceId]);
    const access = await http().get(`${T}/workspaces/${workspace.workspaceId}/access`).set(AUTH);
    expect(access.status).toBe(200);
    expect((access.body as { items: unknown[] }).items).toEqual([
      {
        principal: { type: 'user', id: 'auth0|alice' },
        role: 'admin',
        via: { grantId: initialAdminGrantIdOf(tenantId), workspaceId: null },
        inherited: true,
      },
      {
        principal: { type: 'user', id: 'erin' },
        role: 'editor',
        via: { grantId: grant.grantId, workspaceId: workspace.workspaceId },
        inherited: false,
      },
    ]);

    const last = await http()
      .delete(`${T}/grants/${initialAdminGrantIdOf(tenantId)}`)
      .set(AUTH);
    expect(last.status).toBe(409);
    expect(last.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(last.body).toMatchObject({ code: 'LAST_ADMIN' });
    expect((await http().delete(`${T}/grants/${grant.grantId}`).set(AUTH)).status).toBe(204);
    expect((await http().delete(`${T}/grants/${grant.grantId}`).set(AUTH)).status).toBe(404);
  });

  it("expresses an API key's role as a grant: listed, checked, and not revocable on its own", async () => {
    const key = await kit.issueKey(tenantId, 'reader');
    const grants = await http()
      .get(`${T}/grants?principalType=apiKey&principalId=${key.apiKeyId}`)
      .set(AUTH)
      .set('Min-Position', key.position);
    expect((grants.body as { items: unknown[] }).items).toEqual([
      expect.objectContaining({
        grantId: apiKeyGrantIdOf(key.apiKeyId),
        role: 'viewer',
        workspaceId: null,
        origin: 'apiKey',
      }),
    ]);
    // A UUID names the same group or key in either case, with or without the principal's type.
    for (const query of [
      `principalType=apiKey&principalId=${key.apiKeyId.toUpperCase()}`,
      `principalId=${key.apiKeyId.toUpperCase()}`,
      `principalId=${key.apiKeyId}`,
    ]) {
      const found = await http().get(`${T}/grants?${query}`).set(AUTH);
      expect({
        query,
        grantIds: (found.body as { items: { grantId: string }[] }).items.map((g) => g.grantId),
      }).toEqual({
        query,
        grantIds: [apiKeyGrantIdOf(key.apiKeyId)],
      });
    }
    const check = await http()
      .post(`${T}/permissions/check`)
      .set(key.auth)
      .send({
        principal: { type: 'apiKey', id: key.apiKeyId },
        permission: 'workspace.read',
        workspaceId: rootId,
      });
    expect(check.body).toMatchObject({ allowed: true, role: 'viewer' });
    const revoke = await http()
      .delete(`${T}/grants/${apiKeyGrantIdOf(key.apiKeyId)}`)
      .set(AUTH);
    expect(revoke.body).toMatchObject({ code: 'GRANT_OF_API_KEY' });
  });

  it('answers a full batch of 1,000 checks naming the longest user ids', async () => {
    const longest = 'u'.repeat(255);
    const checks = Array.from({ length: 1000 }, (_, index) => ({
      principal: { type: 'user', id: index % 2 === 0 ? longest : 'auth0|alice' },
      permission: 'workspace.read',
      workspaceId: rootId,
    }));
    const response = await http().post(`${T}/permissions/check`).set(AUTH).send({ checks });
    expect(response.status).toBe(200);
    const results = (response.body as { results: { allowed: boolean }[] }).results;
    expect(results.map((result) => result.allowed)).toEqual(checks.map((_, index) => index % 2 === 1));
  });

  it('answers a batch of one check per item, as any batch: an unknown or out-of-scope workspace is the item answer', async () => {
    const check = { principal: { type: 'user', id: 'auth0|alice' }, permission: 'workspace.read' };
    const unknown = '00000000-0000-4000-8000-000000000000';
    const scoped = await kit.createWorkspace(tenantId, 'Scope of a key');
    const key = await kit.issueKey(tenantId, 'admin', scoped.workspaceId);
    const cases = [
      { auth: AUTH, checks: [{ ...check, workspaceId: unknown }] },
      { auth: key.auth, checks: [{ ...check, workspaceId: rootId }] },
      {
        auth: key.auth,
        checks: [
          { ...check, workspaceId: rootId },
          { ...check, workspaceId: scoped.workspaceId },
        ],
      },
    ];
    for (const { auth, checks } of cases) {
      const response = await http()
        .post(`${T}/permissions/check`)
        .set(auth)
        .set('Min-Position', key.position)
        .send({ checks });
      expect({
        status: response.status,
        first: (response.body as { results?: unknown[] }).results?.[0],
      }).toEqual({
        status: 200,
        first: { allowed: false, code: 'WORKSPACE_NOT_FOUND' },
      });
    }
    // The lone form is still refused as a whole.
    const lone = await http()
      .post(`${T}/permissions/check`)
      .set(AUTH)
      .send({ ...check, workspaceId: unknown });
    expect({ status: lone.status, code: (lone.body as { code?: string }).code }).toEqual({
      status: 404,
      code: 'WORKSPACE_NOT_FOUND',
    });
  });

  it('refuses malformed checks with 400', async () => {
    const principal = { type: 'user', id: 'erin' };
    for (const body of [
      { principal, permission: 'workspace.fly' },
      { principal: { type: 'robot', id: 'x' }, permission: 'workspace.read' },
      { checks: [] },
      { checks: Array.from({ length: 1001 }, () => ({ principal, permission: 'workspace.read' })) },
      { checks: [{ principal, permission: 'workspace.read' }], principal, permission: 'workspace.read' },
    ]) {
      const response = await http().post(`${T}/permissions/check`).set(AUTH).send(body);
      expect({ body: JSON.stringify(body).slice(0, 80), status: response.status }).toEqual({
        body: JSON.stringify(body).slice(0, 80),
        status: 400,
      });
    }
    const badPosition = await http()
      .post(`${T}/permissions/check`)
      .set(AUTH)
      .set('Min-Position', 'soon')
      .send({ principal, permission: 'workspace.read' });
    expect(badPosition.status).toBe(400);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { TenantCommandExecutor } from '../../src/application/commands/tenant-command.executor.js';
import { apiKeyGrantIdOf, initialAdminGrantIdOf } from '../../src/tenancy/api-key-grants.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { AUTH, startTestApp, startTestAppOn, type TestApp } from '../support/test-app.js';
import { accessFixture } from '../access/access-fixture.js';
import { countLostAppends } from '../support/lost-appends.js';

/**
 * Two service instances on one database (the second serves HTTP only), so that rules and
 * read-your-writes are tested where they can actually break: across instances, under real races.
 */
describe('membership consistency across instances', () => {
  let first: TestApp;
  let second: TestApp;
  const kit = accessFixture(() => first);
  const on = (app: TestApp) => request(app.server);

  beforeAll(async () => {
    first = await startTestApp();
    second = await startTestAppOn(first.database, { runConsumers: false });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  it('50 concurrent attempts to remove the last two admins leave exactly one', async () => {
    const created = await on(first)
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: 'Race Co', adminUserId: 'admin-a' });
    const tenantId = (created.body as { tenantId: string }).tenantId;
    const T = `/v1/tenants/${tenantId}`;
    await on(first).put(`${T}/members/admin-b`).set(AUTH).send({});
    const granted = await on(first)
      .post(`${T}/grants`)
      .set(AUTH)
      .send({ principal: { type: 'user', id: 'admin-b' }, role: 'admin' });
    const grantOf = {
      'admin-a': initialAdminGrantIdOf(tenantId),
      'admin-b': (granted.body as { grantId: string }).grantId,
    };
    const lostAppends = countLostAppends([first, second]);

    // Half on each instance, half against each admin, by removing the member or revoking the grant.
    const attempts = Array.from({ length: 50 }, (_, index) => {
      const user = index % 2 === 0 ? 'admin-a' : 'admin-b';
      const app = index % 4 < 2 ? first : second;
      const path = index % 3 === 0 ? `${T}/members/${user}` : `${T}/grants/${grantOf[user]}`;
      return { user, path, send: () => on(app).delete(path).set(AUTH) };
    });
    const responses = await Promise.all(attempts.map((attempt) => attempt.send()));

    const outcomes = responses.map((response, index) => ({
      user: attempts[index]!.user,
      status: response.status,
      code: (response.body as { code?: string }).code,
    }));
    expect(outcomes.every((outcome) => [204, 404, 409].includes(outcome.status))).toBe(true);
    const removed = new Set(
      outcomes.filter((outcome) => outcome.status === 204).map((outcome) => outcome.user),
    );
    const kept = new Set(outcomes.filter((outcome) => outcome.status === 409).map((outcome) => outcome.user));
    expect(removed.size).toBe(1);
    expect(kept.size).toBe(1);
    expect([...removed][0]).not.toBe([...kept][0]);
    expect(
      outcomes.filter((outcome) => outcome.status === 409).every((outcome) => outcome.code === 'LAST_ADMIN'),
    ).toBe(true);

    // The stream itself, folded afresh, has exactly one admin left: the one every 409 protected.
    for (const app of [first, second]) {
      const { state } = await app.app.get(TenantCommandExecutor).read(tenantId);
      expect(state.membership.tenantAdminUserCount).toBe(1);
      expect(state.membership.tenantAdminGrantsReaching([...kept][0]!)).toBe(1);
    }
    // The instances really raced: appends lost to each other and were decided again.
    expect(lostAppends.stop()).toBeGreaterThan(0);
  });

  it('a grant followed by a check with its position answers allowed in 100 of 100 tries, on either instance', async () => {
    const tenant = await kit.createTenant('Read your writes');
    const T = `/v1/tenants/${tenant.tenantId}`;
    const workspace = await kit.createWorkspace(tenant.tenantId, 'Docs');
    const answers: boolean[] = [];
    for (let attempt = 0; attempt < 100; attempt++) {
      const [writer, reader] = attempt % 2 === 0 ? [first, second] : [second, first];
      const userId = `user-${attempt}`;
      expect((await on(writer).put(`${T}/members/${userId}`).set(AUTH).send({})).status).toBe(201);
      const grant = await on(writer)
        .post(`${T}/grants`)
        .set(AUTH)
        .send({
          principal: { type: 'user', id: userId },
          role: 'editor',
          workspaceId: workspace.workspaceId,
        });
      expect(grant.status).toBe(201);
      const position = (grant.body as { position: string }).position;
      const check = await on(reader)
        .post(`${T}/permissions/check`)
        .set(AUTH)
        .set('Min-Position', position)
        .send({
          principal: { type: 'user', id: userId },
          permission: 'workspace.write',
          workspaceId: workspace.workspaceId,
        });
      expect(check.status).toBe(200);
      const body = check.body as { allowed: boolean; position: string };
      expect(body.position >= position).toBe(true);
      answers.push(body.allowed);
    }
    expect(answers.filter(Boolean).length).toBe(100);
  });

  it('a check, a lookup or an access list with a Min-Position no write answered is 400, as on the read-model routes', async () => {
    const tenant = await kit.createTenant();
    const T = `/v1/tenants/${tenant.tenantId}`;
    const workspace = await kit.createWorkspace(tenant.tenantId, 'Docs');
    // Another tenant's later write: this tenant's answer holds every write to it, so it is served.
    const later = await kit.createTenant();
    const future = 'ffffffffffffffff-ffffffffffffffff';
    const requests = (position: string) => [
      on(second)
        .post(`${T}/permissions/check`)
        .set(AUTH)
        .set('Min-Position', position)
        .send({
          principal: { type: 'user', id: 'ann' },
          permission: 'workspace.read',
          workspaceId: workspace.workspaceId,
        }),
      on(second)
        .get(`${T}/principals/user/ann/workspaces?permission=workspace.read`)
        .set(AUTH)
        .set('Min-Position', position),
      on(second)
        .get(`${T}/workspaces/${workspace.workspaceId}/access`)
        .set(AUTH)
        .set('Min-Position', position),
    ];
    const served = await Promise.all(requests(later.position));
    expect(
      served.map((response) => ({
        status: response.status,
        code: (response.body as { code?: string }).code,
      })),
    ).toEqual(served.map(() => ({ status: 200, code: undefined })));
    for (const response of await Promise.all(requests(future))) {
      expect({ status: response.status, errors: (response.body as { errors?: unknown }).errors }).toEqual({
        status: 400,
        errors: [
          { field: 'Min-Position', message: 'is after the last event of the log: no write answered it' },
        ],
      });
    }
  });

  it('a cascade revokes every grant inside the subtree right before each WorkspaceDeleted; checks there answer 404', async () => {
    const tenant = await kit.createTenant('Cascade');
    const T = `/v1/tenants/${tenant.tenantId}`;
    const top = await kit.createWorkspace(tenant.tenantId, 'Top');
    const child = await kit.createWorkspace(tenant.tenantId, 'Child', top.workspaceId);
    const grandchild = await kit.createWorkspace(tenant.tenantId, 'Grandchild', child.workspaceId);
    const outside = await kit.createWorkspace(tenant.tenantId, 'Outside');
    await on(first).put(`${T}/members/ann`).set(AUTH).send({});
    await on(first).put(`${T}/members/ben`).set(AUTH).send({});
    const group = (await on(first).post(`${T}/groups`).set(AUTH).send({ name: 'Team' })).body as {
      groupId: string;
    };
    const key = await kit.issueKey(tenant.tenantId, 'reader', child.workspaceId);
    const inside: string[] = [];
    for (const [principal, workspaceId] of [
      [{ type: 'user', id: 'ann' }, top.workspaceId],
      [{ type: 'user', id: 'ben' }, grandchild.workspaceId],
      [{ type: 'group', id: group.groupId }, child.workspaceId],
      [{ type: 'apiKey', id: key.apiKeyId }, grandchild.workspaceId],
      [{ type: 'user', id: 'ann' }, grandchild.workspaceId],
    ] as const) {
      const response = await on(first)
        .post(`${T}/grants`)
        .set(AUTH)
        .send({ principal, role: 'viewer', workspaceId });
      expect(response.status).toBe(201);
      inside.push((response.body as { grantId: string }).grantId);
    }
    const kept = await on(first)
      .post(`${T}/grants`)
      .set(AUTH)
      .send({ principal: { type: 'user', id: 'ann' }, role: 'admin', workspaceId: outside.workspaceId });

    expect((await on(first).delete(`${T}/workspaces/${top.workspaceId}?cascade=true`).set(AUTH)).status).toBe(
      202,
    );
    await kit.settle();

    const events = await streamOf(tenant.tenantId);
    const deletedAt = new Map(
      events.flatMap((event, index) =>
        event.type === 'WorkspaceDeleted'
          ? [[(event.data as { workspaceId: string }).workspaceId, index] as const]
          : [],
      ),
    );
    const revocations = events
      .map((event, index) => ({ event, index }))
      .filter(({ event }) => event.type === 'RoleRevoked');
    // The three members' grants, the group's, and the key's own role on its workspace.
    expect(revocations.map(({ event }) => (event.data as { grantId: string }).grantId).sort()).toEqual(
      [...inside, apiKeyGrantIdOf(key.apiKeyId)].sort(),
    );
    for (const { event, index } of revocations) {
      const data = event.data as { workspaceId: string; reason: string };
      expect(data.reason).toBe('workspace-deleted');
      const deleted = deletedAt.get(data.workspaceId)!;
      expect(index).toBeLessThan(deleted);
      // Nothing but other revocations of the same workspace, and of the keys scoped to it, between it
      // and the deletion.
      for (let between = index + 1; between < deleted; between++) {
        expect(events[between]).toMatchObject(
          events[between]!.type === 'ApiKeyRevoked'
            ? { data: { apiKeyId: key.apiKeyId } }
            : { type: 'RoleRevoked', data: { workspaceId: data.workspaceId } },
        );
      }
    }
    // The key scoped to the child goes with it, right before the child's WorkspaceDeleted.
    const keyRevokedAt = events.findIndex((event) => event.type === 'ApiKeyRevoked');
    expect(events[keyRevokedAt]!.data).toMatchObject({ apiKeyId: key.apiKeyId });
    expect(deletedAt.get(child.workspaceId)).toBe(keyRevokedAt + 1);

    for (const app of [first, second]) {
      const check = await on(app)
        .post(`${T}/permissions/check`)
        .set(AUTH)
        .set('Min-Position', events.at(-1)!.position)
        .send({
          principal: { type: 'user', id: 'ann' },
          permission: 'workspace.read',
          workspaceId: grandchild.workspaceId,
        });
      expect(check.status).toBe(404);
      expect(check.body).toMatchObject({ code: 'WORKSPACE_NOT_FOUND' });
    }
    const grants = await on(first).get(`${T}/grants`).set(AUTH).set('Min-Position', events.at(-1)!.position);
    // Only the grant outside the subtree is left (the key's own role went with its workspace).
    expect((grants.body as { items: { grantId: string }[] }).items.map((item) => item.grantId)).toEqual([
      (kept.body as { grantId: string }).grantId,
    ]);
  });

  async function streamOf(tenantId: string) {
    const events: { type: string; data: unknown; position: string }[] = [];
    for await (const event of first.runtime.eventStore.readStream(tenantStreamName(tenantId)))
      events.push(event);
    return events;
  }

  /**
   * Counts appends that failed on the expected revision (another instance had appended first). The
   * first append of each instance waits (up to 2 s) until the other has decided too and reached its
   * own append, so that both really append against the same revision and the database decides:
   * without it, one instance's log follower may show it the other's write before it decides.
   */
});

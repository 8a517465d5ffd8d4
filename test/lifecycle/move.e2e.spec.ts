import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { TenantCommandExecutor } from '../../src/application/commands/tenant-command.executor.js';
import { runTenancyCli } from '../../src/cli/tenancy.cli.js';
import { findLiveWorkspace, type WorkspaceLineage } from '../../src/tenancy/tenant.state.js';
import { AUTH, startTestApp, startTestAppOn, type TestApp } from '../support/test-app.js';
import { accessFixture } from '../access/access-fixture.js';
import { capture } from '../support/capture.js';
import { countLostAppends } from '../support/lost-appends.js';

interface Moved {
  workspaceId: string;
  parentWorkspaceId: string;
  depth: number;
  path: string[];
  position: string;
}

/**
 * Moving a workspace with its subtree, over HTTP, on two service instances (the second serves HTTP
 * only), so that concurrent moves really race: the refusals, the read model of the whole subtree,
 * checks that follow the move at its position, and history before it.
 */
describe('moving a workspace subtree', () => {
  let first: TestApp;
  let second: TestApp;
  const kit = accessFixture(() => first);
  const on = (app: TestApp) => request(app.server);
  const http = () => on(first);

  beforeAll(async () => {
    first = await startTestApp();
    second = await startTestAppOn(first.database, { runConsumers: false });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  const move = (tenantId: string, workspaceId: string, parentWorkspaceId: string, app = first) =>
    on(app)
      .post(`/v1/tenants/${tenantId}/workspaces/${workspaceId}/move`)
      .set(AUTH)
      .send({ parentWorkspaceId });

  it('moves a subtree in one event: the answer, the read model of every descendant, and the audit', async () => {
    const tenant = await kit.createTenant('Move');
    const T = `/v1/tenants/${tenant.tenantId}`;
    const a = (await kit.createWorkspace(tenant.tenantId, 'A')).workspaceId;
    const b = (await kit.createWorkspace(tenant.tenantId, 'B', a)).workspaceId;
    const c = (await kit.createWorkspace(tenant.tenantId, 'C', b)).workspaceId;
    const target = (await kit.createWorkspace(tenant.tenantId, 'Target')).workspaceId;
    const deep = (await kit.createWorkspace(tenant.tenantId, 'Deep', target)).workspaceId;
    await kit.settle();
    const before = await kit.logLength();

    const moved = await move(tenant.tenantId, b, deep);
    expect(moved.status).toBe(200);
    const body = moved.body as Moved;
    expect(body).toMatchObject({
      workspaceId: b,
      parentWorkspaceId: deep,
      depth: 3,
      path: [tenant.rootWorkspaceId, target, deep, b],
    });
    expect(moved.headers.etag).toBeDefined();
    expect(await kit.logLength()).toBe(before + 1);

    const child = await http().get(`${T}/workspaces/${c}`).set(AUTH).set('Min-Position', body.position);
    expect(child.body).toMatchObject({ depth: 4, path: [tenant.rootWorkspaceId, target, deep, b, c] });
    const oldParent = await http().get(`${T}/workspaces/${a}`).set(AUTH);
    expect(oldParent.body).toMatchObject({ childCount: 0 });
    const newParent = await http().get(`${T}/workspaces/${deep}`).set(AUTH);
    expect(newParent.body).toMatchObject({ childCount: 1 });
    const children = await http().get(`${T}/workspaces?parentWorkspaceId=${deep}`).set(AUTH);
    expect(
      (children.body as { items: { workspaceId: string }[] }).items.map((item) => item.workspaceId),
    ).toEqual([b]);

    // Moving it where it is changes nothing.
    const again = await move(tenant.tenantId, b, deep);
    expect(again.status).toBe(200);
    expect(await kit.logLength()).toBe(before + 1);
  });

  it('refuses a cycle, the root, a name clash, a deleting workspace and a depth over the quota, changing nothing', async () => {
    const tenant = await kit.createTenant('Refusals');
    const T = `/v1/tenants/${tenant.tenantId}`;
    const root = tenant.rootWorkspaceId;
    const a = await kit.createWorkspace(tenant.tenantId, 'A');
    const { workspaceId: b, name: bName } = await kit.createWorkspace(tenant.tenantId, 'B', a.workspaceId);
    const c = (await kit.createWorkspace(tenant.tenantId, 'C', b)).workspaceId;
    const other = (await kit.createWorkspace(tenant.tenantId, 'Other')).workspaceId;
    // A sibling of B's future place named as B is (the name it was created with: a read without
    // Min-Position could come before the read model has B).
    const clash = (
      await http()
        .post(`${T}/workspaces`)
        .set(AUTH)
        .send({ name: bName.toUpperCase(), parentWorkspaceId: other })
    ).body as { workspaceId: string };
    const doomed = (await kit.createWorkspace(tenant.tenantId, 'Doomed')).workspaceId;
    await kit.createWorkspace(tenant.tenantId, 'Doomed child', doomed);
    await kit.settle();
    expect((await http().delete(`${T}/workspaces/${doomed}?cascade=true`).set(AUTH)).status).toBe(202);
    // The cascade may run meanwhile; a deleting or a deleted workspace is refused either way.
    expect((await http().put(`${T}/quotas`).set(AUTH).send({ maxDepth: 3 })).status).toBe(200);
    await kit.settle();
    const before = await kit.logLength();

    const refusals = [
      ['into itself', await move(tenant.tenantId, a.workspaceId, a.workspaceId)],
      ['under its own child', await move(tenant.tenantId, a.workspaceId, b)],
      ['under its own grandchild', await move(tenant.tenantId, a.workspaceId, c)],
      ['the root', await move(tenant.tenantId, root, a.workspaceId)],
      ['onto a sibling with its name', await move(tenant.tenantId, b, other)],
      ['under a deleting workspace', await move(tenant.tenantId, b, doomed)],
      ['deeper than maxDepth', await move(tenant.tenantId, a.workspaceId, clash.workspaceId)],
    ] as const;
    expect(
      refusals.map(([label, response]) => [label, response.status, (response.body as { code: string }).code]),
    ).toEqual([
      ['into itself', 409, 'WORKSPACE_MOVE_CYCLE'],
      ['under its own child', 409, 'WORKSPACE_MOVE_CYCLE'],
      ['under its own grandchild', 409, 'WORKSPACE_MOVE_CYCLE'],
      ['the root', 409, 'ROOT_WORKSPACE_IMMOVABLE'],
      ['onto a sibling with its name', 409, 'WORKSPACE_NAME_TAKEN'],
      [
        'under a deleting workspace',
        expect.any(Number),
        expect.stringMatching(/^WORKSPACE_(DELETING|NOT_FOUND)$/),
      ],
      ['deeper than maxDepth', 409, 'QUOTA_EXCEEDED'],
    ]);
    expect([404, 409]).toContain(refusals[5][1].status);
    // A: depth 1 with a subtree two levels deep; under clash (depth 2) its deepest would be at 5.
    expect(refusals[6][1].body).toMatchObject({ quota: 'maxDepth', limit: 3, current: 5 });
    const missing = await move(tenant.tenantId, b, '00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    const invalid = await http().post(`${T}/workspaces/${b}/move`).set(AUTH).send({ parentWorkspaceId: 'x' });
    expect(invalid.status).toBe(400);
    expect((await http().post(`${T}/workspaces/${b}/move`).set(AUTH).send({})).status).toBe(400);
    expect(await kit.logLength()).toBe(before);

    // Within the quota the same subtree moves: under Other it reaches depth 4 only with maxDepth 4.
    expect((await move(tenant.tenantId, a.workspaceId, other)).status).toBe(409);
    expect((await http().put(`${T}/quotas`).set(AUTH).send({ maxDepth: 4 })).status).toBe(200);
    expect((await move(tenant.tenantId, a.workspaceId, other)).status).toBe(200);
  });

  it('two concurrent moves A under B and B under A, on two instances deciding on the same revision: exactly one wins, never a cycle', async () => {
    for (let round = 0; round < 5; round++) {
      const tenant = await kit.createTenant(`Cycle race ${round}`);
      const a = (await kit.createWorkspace(tenant.tenantId, 'A')).workspaceId;
      const b = (await kit.createWorkspace(tenant.tenantId, 'B')).workspaceId;
      await kit.settle();
      // Both instances have decided before either appends: the store arbitrates.
      const lost = countLostAppends([first, second]);
      const [ab, ba] = await Promise.all([
        move(tenant.tenantId, a, b, first),
        move(tenant.tenantId, b, a, second),
      ]);
      expect(lost.stop()).toBe(1);
      const statuses = [ab.status, ba.status].sort();
      expect(statuses).toEqual([200, 409]);
      const loser = ab.status === 409 ? ab : ba;
      expect(loser.body).toMatchObject({ code: 'WORKSPACE_MOVE_CYCLE' });

      // The stream folded afresh on each instance: one moved under the other, both reach the root.
      for (const app of [first, second]) {
        const { state } = await app.app.get(TenantCommandExecutor).read(tenant.tenantId);
        const lineageIds = (workspaceId: string) => {
          const ids: string[] = [];
          let link: WorkspaceLineage | null = findLiveWorkspace(state, workspaceId)!.lineage;
          for (; link !== null; link = link.parent) ids.push(link.workspaceId);
          return ids;
        };
        const [la, lb] = [lineageIds(a), lineageIds(b)];
        expect(la.at(-1)).toBe(tenant.rootWorkspaceId);
        expect(lb.at(-1)).toBe(tenant.rootWorkspaceId);
        expect(la.includes(b) !== lb.includes(a)).toBe(true);
      }
    }
  });

  it('checks follow the move at its position; grants on the old ancestors stop reaching the subtree', async () => {
    const tenant = await kit.createTenant('Checks');
    const T = `/v1/tenants/${tenant.tenantId}`;
    const left = (await kit.createWorkspace(tenant.tenantId, 'Left')).workspaceId;
    const right = (await kit.createWorkspace(tenant.tenantId, 'Right')).workspaceId;
    const team = (await kit.createWorkspace(tenant.tenantId, 'Team', left)).workspaceId;
    const leaf = (await kit.createWorkspace(tenant.tenantId, 'Leaf', team)).workspaceId;
    await http().put(`${T}/members/lena`).set(AUTH).send({});
    await http().put(`${T}/members/rick`).set(AUTH).send({});
    for (const [userId, workspaceId] of [
      ['lena', left],
      ['rick', right],
    ])
      expect(
        (
          await http()
            .post(`${T}/grants`)
            .set(AUTH)
            .send({ principal: { type: 'user', id: userId }, role: 'editor', workspaceId })
        ).status,
      ).toBe(201);
    await kit.settle();
    const check = (userId: string, position: string, app: TestApp) =>
      on(app)
        .post(`${T}/permissions/check`)
        .set(AUTH)
        .set('Min-Position', position)
        .send({ principal: { type: 'user', id: userId }, permission: 'workspace.write', workspaceId: leaf });

    const moved = await move(tenant.tenantId, team, right, first);
    expect(moved.status).toBe(200);
    const position = (moved.body as Moved).position;
    // Asked at once, on the instance that did not move it.
    const [lena, rick] = await Promise.all([
      check('lena', position, second),
      check('rick', position, second),
    ]);
    expect(lena.body).toMatchObject({ allowed: false });
    expect(rick.body).toMatchObject({ allowed: true });
    const access = await http().get(`${T}/workspaces/${leaf}/access`).set(AUTH).set('Min-Position', position);
    expect(access.status).toBe(200);
    expect(JSON.stringify(access.body)).toContain('rick');
    expect(JSON.stringify(access.body)).not.toContain('lena');
  });

  it('history at a position before the move shows the old tree, after it the new one', async () => {
    const tenant = await kit.createTenant('History');
    const a = (await kit.createWorkspace(tenant.tenantId, 'A')).workspaceId;
    const created = await kit.createWorkspace(tenant.tenantId, 'B', a);
    const b = created.workspaceId;
    const c = (await kit.createWorkspace(tenant.tenantId, 'C', b)).workspaceId;
    const target = await kit.createWorkspace(tenant.tenantId, 'Target');
    await kit.settle();
    const moved = await move(tenant.tenantId, b, target.workspaceId);
    expect(moved.status).toBe(200);

    const history = async (at?: string) => {
      const stdout = capture();
      const code = await runTenancyCli(
        ['history', '--tenant', tenant.tenantId, ...(at ? ['--at', at] : []), '--json'],
        {
          stdin: new PassThrough(),
          stdout,
          stderr: capture(),
          openEventStore: async () => ({
            eventStore: first.runtime.eventStore,
            pool: first.runtime.pool,
            close: async () => undefined,
          }),
        },
      );
      expect(code).toBe(0);
      const tree = JSON.parse(stdout.text()) as {
        workspaces: { workspaceId: string; parentWorkspaceId: string | null; depth: number }[];
      };
      return new Map(tree.workspaces.map((workspace) => [workspace.workspaceId, workspace]));
    };
    const before = await history(target.position);
    expect(before.get(b)).toMatchObject({ parentWorkspaceId: a, depth: 2 });
    expect(before.get(c)).toMatchObject({ parentWorkspaceId: b, depth: 3 });
    const after = await history();
    expect(after.get(b)).toMatchObject({ parentWorkspaceId: target.workspaceId, depth: 2 });
    expect(after.get(c)).toMatchObject({ parentWorkspaceId: b, depth: 3 });
    const atMove = await history((moved.body as Moved).position);
    expect(atMove.get(b)).toMatchObject({ parentWorkspaceId: target.workspaceId });
  });

  it('a tenant-wide admin key may move; a key scoped to one subtree may not move out of it', async () => {
    const tenant = await kit.createTenant('Keys');
    const inside = (await kit.createWorkspace(tenant.tenantId, 'Inside')).workspaceId;
    const x = (await kit.createWorkspace(tenant.tenantId, 'X', inside)).workspaceId;
    const y = (await kit.createWorkspace(tenant.tenantId, 'Y', inside)).workspaceId;
    const outside = (await kit.createWorkspace(tenant.tenantId, 'Outside')).workspaceId;
    const scoped = await kit.issueKey(tenant.tenantId, 'admin', inside);
    const reader = await kit.issueKey(tenant.tenantId, 'reader');
    await kit.settle();
    const send = (auth: Record<string, string>, workspaceId: string, parentWorkspaceId: string) =>
      http()
        .post(`/v1/tenants/${tenant.tenantId}/workspaces/${workspaceId}/move`)
        .set(auth)
        .send({ parentWorkspaceId });
    expect((await send(reader.auth, x, y)).status).toBe(403);
    expect((await send(scoped.auth, x, outside)).status).toBe(404);
    expect((await send(scoped.auth, inside, x)).status).toBe(403);
    expect((await send(scoped.auth, x, y)).status).toBe(200);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { holdWritesOf } from '../support/held-writes.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { accessFixture } from './access-fixture.js';

/**
 * A workspace key's write is let in by the guard while its target lies in the key's subtree, then
 * waits its turn on the tenant; the target may have been moved out of the subtree meanwhile.
 */
describe('a workspace key whose target leaves its subtree before the write is decided', () => {
  let app: TestApp;
  const kit = accessFixture(() => app);

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is refused as outside its reach (404), and nothing it sent is appended', async () => {
    const tenant = await kit.createTenant('Moved away');
    const t = tenant.tenantId;
    const top = await kit.createWorkspace(t, 'Top');
    const child = await kit.createWorkspace(t, 'Child', top.workspaceId);
    const leaf = await kit.createWorkspace(t, 'Leaf', child.workspaceId);
    const inner = await kit.createWorkspace(t, 'Inner', child.workspaceId);
    const elsewhere = await kit.createWorkspace(t, 'Elsewhere');
    for (const userId of ['someone', 'another'])
      expect((await kit.http().put(`/v1/tenants/${t}/members/${userId}`).set(AUTH).send({})).status).toBe(
        201,
      );
    const granted = await kit
      .http()
      .post(`/v1/tenants/${t}/grants`)
      .set(AUTH)
      .send({ principal: { type: 'user', id: 'someone' }, role: 'viewer', workspaceId: child.workspaceId });
    expect(granted.status).toBe(201);
    const key = await kit.issueKey(t, 'admin', top.workspaceId);

    // Every write by the key waits, once the guard has let it in, until the child has been moved
    // out of the key's subtree.
    const held = holdWritesOf(app.app, key.apiKeyId);
    try {
      const http = () => request(app.server);
      const base = `/v1/tenants/${t}`;
      const writes = [
        http()
          .post(`${base}/grants`)
          .set(key.auth)
          .send({
            principal: { type: 'user', id: 'another' },
            role: 'admin',
            workspaceId: child.workspaceId,
          }),
        http().patch(`${base}/workspaces/${child.workspaceId}`).set(key.auth).send({ name: 'Renamed' }),
        http()
          .post(`${base}/workspaces`)
          .set(key.auth)
          .send({ name: 'New', parentWorkspaceId: child.workspaceId }),
        http().delete(`${base}/workspaces/${leaf.workspaceId}`).set(key.auth),
        http()
          .post(`${base}/workspaces/${inner.workspaceId}/move`)
          .set(key.auth)
          .send({ parentWorkspaceId: top.workspaceId }),
        http()
          .delete(`${base}/grants/${(granted.body as { grantId: string }).grantId}`)
          .set(key.auth),
      ].map((pending) => pending.then((response) => response));
      await waitFor(() => Promise.resolve(held.arrived() === writes.length), 5_000, 5);
      const moved = await http()
        .post(`${base}/workspaces/${child.workspaceId}/move`)
        .set(AUTH)
        .send({ parentWorkspaceId: elsewhere.workspaceId });
      expect(moved.status).toBe(200);
      held.release();
      const answers = await Promise.all(writes);
      expect(answers.map((answer) => [answer.status, (answer.body as { code?: string }).code])).toEqual([
        [404, 'WORKSPACE_NOT_FOUND'],
        [404, 'WORKSPACE_NOT_FOUND'],
        [404, 'WORKSPACE_NOT_FOUND'],
        [404, 'WORKSPACE_NOT_FOUND'],
        [404, 'WORKSPACE_NOT_FOUND'],
        [404, 'GRANT_NOT_FOUND'],
      ]);
      const { rows } = await app.database.pool.query<{ type: string }>(
        `SELECT event_type AS type FROM events
          WHERE stream_name = $1 AND metadata->>'actor' = $2 ORDER BY stream_revision`,
        [`tenant-${t}`, key.apiKeyId],
      );
      expect(rows).toEqual([]);
    } finally {
      held.restore();
    }
  });
});

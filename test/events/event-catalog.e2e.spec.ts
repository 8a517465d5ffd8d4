import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { TenantCommandExecutor } from '../../src/application/commands/tenant-command.executor.js';
import type { JsonObject } from '../../src/event-store/event-store.port.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { loadEventSchemaValidator, type EventSchemaValidator } from './event-schema.validator.js';

/** Whatever the running service writes, through every path a client can reach, matches the catalog. */
describe('the event catalog against a service run', () => {
  let app: TestApp;
  let validator: EventSchemaValidator;
  const http = () => request(app.server);

  beforeAll(async () => {
    app = await startTestApp();
    validator = await loadEventSchemaValidator();
    await runThroughTheApi();
  });
  afterAll(async () => {
    await app.close();
  });

  async function runThroughTheApi(): Promise<void> {
    const executor = app.app.get(TenantCommandExecutor);
    const context = () => ({
      actor: 'test',
      correlationId: randomUUID(),
      causationId: randomUUID(),
      now: new Date(),
    });
    const finishDeletions = async (tenantId: string) => {
      for (;;) {
        const outcome = await executor.execute(
          { type: 'ContinueDeletion', tenantId, maxBatch: 4 },
          context(),
        );
        if (outcome.events.length === 0) return;
      }
    };
    const post = async (path: string, body: object) => {
      const response = await http().post(path).set(AUTH).send(body);
      expect(response.status).toBe(201);
      return response.body as { tenantId: string; workspaceId: string; rootWorkspaceId: string };
    };
    for (let t = 0; t < 3; t++) {
      const { tenantId, rootWorkspaceId } = await post('/v1/tenants', {
        name: `Catalog ${t} ${randomUUID()}`,
        adminUserId: `admin|${t}`,
      });
      const a = await post(`/v1/tenants/${tenantId}/workspaces`, { name: 'A' });
      const b = await post(`/v1/tenants/${tenantId}/workspaces`, {
        name: 'B',
        parentWorkspaceId: a.workspaceId,
      });
      await post(`/v1/tenants/${tenantId}/workspaces`, { name: 'C', parentWorkspaceId: b.workspaceId });
      const d = await post(`/v1/tenants/${tenantId}/workspaces`, { name: 'D' });
      await http()
        .patch(`/v1/tenants/${tenantId}/workspaces/${rootWorkspaceId}`)
        .set(AUTH)
        .send({ name: 'Top' })
        .expect(200);
      await http()
        .patch(`/v1/tenants/${tenantId}/workspaces/${b.workspaceId}`)
        .set(AUTH)
        .send({ name: 'Bee' })
        .expect(200);
      // Members, groups and grants, ended every way the API can end them.
      const T = `/v1/tenants/${tenantId}`;
      await http().put(`${T}/members/ann@example.com`).set(AUTH).send({ displayName: 'Ann' }).expect(201);
      await http().put(`${T}/members/ann@example.com`).set(AUTH).send({ displayName: 'Ann B.' }).expect(200);
      await http().put(`${T}/members/bo`).set(AUTH).send({}).expect(201);
      const group = (await post(`${T}/groups`, { name: 'Crew' })) as unknown as { groupId: string };
      await http().patch(`${T}/groups/${group.groupId}`).set(AUTH).send({ name: 'Crew 2' }).expect(200);
      await http().put(`${T}/groups/${group.groupId}/members/ann@example.com`).set(AUTH).expect(201);
      await http().put(`${T}/groups/${group.groupId}/members/bo`).set(AUTH).expect(201);
      await http().delete(`${T}/groups/${group.groupId}/members/bo`).set(AUTH).expect(204);
      const toGroup = (await post(`${T}/grants`, {
        principal: { type: 'group', id: group.groupId },
        role: 'editor',
        workspaceId: b.workspaceId,
      })) as unknown as { grantId: string };
      await post(`${T}/grants`, {
        principal: { type: 'user', id: 'bo' },
        role: 'viewer',
        workspaceId: d.workspaceId,
      });
      await post(`${T}/grants`, {
        principal: { type: 'user', id: 'bo' },
        role: 'admin',
        workspaceId: d.workspaceId,
      });
      await post(`${T}/grants`, { principal: { type: 'user', id: 'ann@example.com' }, role: 'viewer' });
      await http().delete(`${T}/grants/${toGroup.grantId}`).set(AUTH).expect(204);
      await http().delete(`${T}/members/ann@example.com`).set(AUTH).expect(204);
      await http().delete(`${T}/groups/${group.groupId}`).set(AUTH).expect(204);
      await http().delete(`/v1/tenants/${tenantId}/workspaces/${d.workspaceId}`).set(AUTH).expect(204);
      await http()
        .delete(`/v1/tenants/${tenantId}/workspaces/${a.workspaceId}?cascade=true`)
        .set(AUTH)
        .expect(202);
      await finishDeletions(tenantId);
      if (t > 0) {
        await http().delete(`/v1/tenants/${tenantId}`).set(AUTH).expect(202);
        await finishDeletions(tenantId);
      }
    }
  }

  it('every stored tenant event matches the schema of the version it was written with', async () => {
    const { rows } = await app.database.pool.query<{
      event_type: string;
      data: JsonObject;
      metadata: JsonObject;
    }>(
      `SELECT event_type, data, metadata FROM events WHERE stream_name LIKE 'tenant-%' ORDER BY global_position`,
    );
    // The run reached every kind of workspace, tenant and membership event (more may appear; all must validate).
    const types = new Set(rows.map((row) => row.event_type));
    for (const type of [
      'TenantCreated',
      'WorkspaceCreated',
      'WorkspaceRenamed',
      'WorkspaceDeletionStarted',
      'WorkspaceDeleted',
      'TenantDeletionStarted',
      'TenantDeleted',
      'MemberAdded',
      'MemberUpdated',
      'MemberRemoved',
      'GroupCreated',
      'GroupRenamed',
      'GroupDeleted',
      'GroupMemberAdded',
      'GroupMemberRemoved',
      'RoleGranted',
      'RoleRevoked',
    ]) {
      expect({ type, stored: types.has(type) }).toEqual({ type, stored: true });
    }
    validator.assertAllValid(
      rows.map((row) => ({ type: row.event_type, data: row.data, metadata: row.metadata })),
    );
  });

  it('every event the feed serves matches the current schema', async () => {
    const items: { type: string; data: unknown; metadata: Record<string, unknown> }[] = [];
    let after: string | undefined;
    for (;;) {
      const response = await http()
        .get('/v1/events')
        .set(AUTH)
        .query({ limit: 1000, ...(after ? { after } : {}) });
      expect(response.status).toBe(200);
      if (response.body.items.length === 0) break;
      items.push(...response.body.items);
      after = response.body.next;
    }
    const { rows } = await app.database.pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM events WHERE stream_name LIKE 'tenant-%'`,
    );
    expect(items).toHaveLength(rows[0]?.count ?? -1);
    validator.assertAllValid(items);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { holdWritesOf } from '../support/held-writes.js';
import { AUTH, startTestApp, startTestAppOn, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { accessFixture } from './access-fixture.js';

/** Two instances of the service on one database, as two processes behind a load balancer. */
describe('API keys across instances', () => {
  let first: TestApp;
  let second: TestApp;
  const kit = accessFixture(() => first);

  beforeAll(async () => {
    first = await startTestApp();
    second = await startTestAppOn(first.database, { runConsumers: false });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  const statusOn = async (app: TestApp, path: string, auth: Record<string, string>) =>
    (await request(app.server).get(path).set(auth)).status;

  /** Polls until the instance answers the status; returns how long that took. */
  const timeUntil = async (app: TestApp, path: string, auth: Record<string, string>, status: number) => {
    const start = Date.now();
    await waitFor(async () => (await statusOn(app, path, auth)) === status, 5_000, 20);
    return Date.now() - start;
  };

  it('a key issued on one instance works on the other, and is refused there within a second of its revocation', async () => {
    const tenant = await kit.createTenant('Revoked everywhere');
    const key = await kit.issueKey(tenant.tenantId, 'admin');
    const keysPath = `/v1/tenants/${tenant.tenantId}/api-keys`;
    // Works at once where it was issued; on the other instance as soon as its registry follows.
    expect(await statusOn(first, keysPath, key.auth)).toBe(200);
    await timeUntil(second, keysPath, key.auth, 200);

    const revoked = await request(first.server).delete(`${keysPath}/${key.apiKeyId}`).set(AUTH);
    expect(revoked.status).toBe(204);
    const revokedAt = Date.now();
    expect(await statusOn(first, keysPath, key.auth)).toBe(401);
    await timeUntil(second, keysPath, key.auth, 401);
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
  });

  it('keys of a tenant stop working on every instance once its deletion starts', async () => {
    const tenant = await kit.createTenant('Going away');
    const key = await kit.issueKey(tenant.tenantId, 'reader');
    const path = `/v1/tenants/${tenant.tenantId}/events`;
    await timeUntil(second, path, key.auth, 200);
    expect((await request(first.server).delete(`/v1/tenants/${tenant.tenantId}`).set(AUTH)).status).toBe(202);
    const deletedAt = Date.now();
    await timeUntil(first, path, key.auth, 401);
    await timeUntil(second, path, key.auth, 401);
    expect(Date.now() - deletedAt).toBeLessThan(1_000);
  });

  it('a workspace key authenticates nothing once its workspace is deleted', async () => {
    const tenant = await kit.createTenant('Scoped');
    const workspace = await kit.createWorkspace(tenant.tenantId, 'Team');
    const key = await kit.issueKey(tenant.tenantId, 'reader', workspace.workspaceId);
    const path = `/v1/tenants/${tenant.tenantId}/workspaces/${workspace.workspaceId}`;
    await kit.readModelAt(key.position);
    expect(await statusOn(first, path, key.auth)).toBe(200);
    expect((await request(first.server).delete(path).set(AUTH)).status).toBe(204);
    expect(await statusOn(first, path, key.auth)).toBe(401);
    expect(await statusOn(second, path, key.auth)).toBe(401);
  });

  it('an instance started later loads the keys issued before it, and none that were revoked', async () => {
    const tenant = await kit.createTenant('Before the start');
    const kept = await kit.issueKey(tenant.tenantId, 'reader');
    const dropped = await kit.issueKey(tenant.tenantId, 'reader');
    await kit.revokeKey(tenant.tenantId, dropped.apiKeyId);
    const third = await startTestAppOn(first.database, { runConsumers: false });
    try {
      const path = `/v1/tenants/${tenant.tenantId}/events`;
      await timeUntil(third, path, kept.auth, 200);
      expect(await statusOn(third, path, dropped.auth)).toBe(401);
      // The operator never waits for the keys to load.
      expect(await statusOn(third, '/v1/tenants', AUTH)).toBe(200);
    } finally {
      await third.close();
    }
  });

  /** The tenant's stream as stored: what was appended, by whom, in order. */
  const streamOf = async (tenantId: string) => {
    const { rows } = await first.database.pool.query<{
      type: string;
      data: { workspaceId?: string; apiKeyId?: string; isRoot?: boolean };
      actor: string;
    }>(
      `SELECT event_type AS type, data, metadata->>'actor' AS actor FROM events
        WHERE stream_name = $1 ORDER BY stream_revision`,
      [`tenant-${tenantId}`],
    );
    return rows;
  };

  /** Checks the stream holds nothing the key caused after its revocation; returns what it did cause. */
  const writesOfKey = async (tenantId: string, apiKeyId: string) => {
    const stream = await streamOf(tenantId);
    const revokedAt = stream.findIndex((event) => event.type === 'ApiKeyRevoked');
    expect(revokedAt).toBeGreaterThanOrEqual(0);
    expect(stream.slice(revokedAt + 1).filter((event) => event.actor === apiKeyId)).toEqual([]);
    return stream.filter((event) => event.actor === apiKeyId);
  };

  it('a write that passed the key check before the revocation is refused (401) when it is decided after it', async () => {
    const tenant = await kit.createTenant('Revoked mid-flight');
    const key = await kit.issueKey(tenant.tenantId, 'admin');
    // Every write by the key waits, after the guard let it through, until the key has been revoked
    // (on the other instance, so this one decides on a state that has to catch up first).
    const held = holdWritesOf(first.app, key.apiKeyId);
    try {
      const writes = Array.from({ length: 10 }, (_, index) =>
        request(first.server)
          .post(`/v1/tenants/${tenant.tenantId}/workspaces`)
          .set(key.auth)
          .send({ name: `Late ${index}` })
          .then((response) => response),
      );
      await waitFor(() => Promise.resolve(held.arrived() === writes.length), 5_000, 5);
      const revoked = await request(second.server)
        .delete(`/v1/tenants/${tenant.tenantId}/api-keys/${key.apiKeyId}`)
        .set(AUTH);
      expect(revoked.status).toBe(204);
      held.release();
      const answers = await Promise.all(writes);
      expect(answers.map((answer) => [answer.status, (answer.body as { code?: string }).code])).toEqual(
        writes.map(() => [401, 'UNAUTHORIZED']),
      );
      expect(answers[0]!.headers['www-authenticate']).toBe('Bearer realm="tenancy"');
      expect(await writesOfKey(tenant.tenantId, key.apiKeyId)).toEqual([]);
    } finally {
      held.restore();
    }
  });

  it('of many writes racing a revocation, none by the key lands after it, and each one answered 201 landed before it', async () => {
    const tenant = await kit.createTenant('Revoked in a race');
    const key = await kit.issueKey(tenant.tenantId, 'admin');
    const path = `/v1/tenants/${tenant.tenantId}/workspaces`;
    // Thirty clients keep writing with the key; it is revoked once ten writes have been answered,
    // so writes are on their way through the guard and waiting for their turn as the revocation lands.
    let answered = 0;
    let revocation: Promise<number> | undefined;
    const revoke = async () =>
      (
        await request(first.server)
          .delete(`/v1/tenants/${tenant.tenantId}/api-keys/${key.apiKeyId}`)
          .set(AUTH)
      ).status;
    const clients = await Promise.all(
      Array.from({ length: 30 }, async (_, client) => {
        const answers: request.Response[] = [];
        for (let index = 0; index < 10; index++) {
          const response = await request(first.server)
            .post(path)
            .set(key.auth)
            .send({ name: `Racer ${client}-${index}` });
          answers.push(response);
          answered += 1;
          if (answered === 10) revocation = revoke();
          if (response.status !== 201) break;
        }
        return answers;
      }),
    );
    const answers = clients.flat();
    expect(await revocation).toBe(204);
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([201, 401]));
    const created = answers
      .filter((answer) => answer.status === 201)
      .map((answer) => (answer.body as { workspaceId: string }).workspaceId)
      .sort();
    // The key's first write also creates the root when its bootstrap has not yet run (CreateWorkspace
    // does that on demand): that one was never answered as a workspace of its own.
    const landed = (await writesOfKey(tenant.tenantId, key.apiKeyId))
      .filter((event) => event.type === 'WorkspaceCreated' && event.data.isRoot !== true)
      .map((event) => event.data.workspaceId)
      .sort();
    expect(landed).toEqual(created);
  });
});

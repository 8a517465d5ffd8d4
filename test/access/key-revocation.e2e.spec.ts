import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
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
});

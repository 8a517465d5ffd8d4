import { randomUUID } from 'node:crypto';
import { expect } from '@jest/globals';
import request from 'supertest';
import { AUTH, type TestApp } from '../support/test-app.js';
import { processManagersSettled } from '../support/process-managers-settled.js';

/** Writes through the API as the operator, for arranging access tests. */
export function accessFixture(app: () => TestApp) {
  const http = () => request(app().server);

  const createTenant = async (label = 'Tenant') => {
    const name = `${label} ${randomUUID().slice(0, 8)}`;
    const response = await http().post('/v1/tenants').set(AUTH).send({ name });
    expect(response.status).toBe(201);
    const body = response.body as { tenantId: string; rootWorkspaceId: string; position: string };
    return { ...body, name };
  };

  const createWorkspace = async (tenantId: string, label: string, parentWorkspaceId?: string) => {
    const name = `${label} ${randomUUID().slice(0, 8)}`;
    const response = await http()
      .post(`/v1/tenants/${tenantId}/workspaces`)
      .set(AUTH)
      .send({ name, ...(parentWorkspaceId ? { parentWorkspaceId } : {}) });
    expect(response.status).toBe(201);
    const body = response.body as { workspaceId: string; position: string };
    return { ...body, name };
  };

  const issueKey = async (
    tenantId: string,
    role: 'admin' | 'reader',
    workspaceId?: string,
    auth: Record<string, string> = AUTH,
  ) => {
    const response = await http()
      .post(`/v1/tenants/${tenantId}/api-keys`)
      .set(auth)
      .send({ role, name: `${role} key`, ...(workspaceId ? { workspaceId } : {}) });
    expect(response.status).toBe(201);
    const body = response.body as { apiKeyId: string; secret: string; position: string };
    return { ...body, auth: bearer(body.secret) };
  };

  const revokeKey = async (tenantId: string, apiKeyId: string) => {
    const response = await http().delete(`/v1/tenants/${tenantId}/api-keys/${apiKeyId}`).set(AUTH);
    expect(response.status).toBe(204);
  };

  /** Events in the whole log. */
  const logLength = async (): Promise<number> => {
    const { rows } = await app().database.pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM events',
    );
    return rows[0]?.count ?? 0;
  };

  /**
   * Waits until the process managers have finished reacting (root bootstrap, cascades); without
   * this, their appends would be blamed on the next request.
   */
  const settle = (): Promise<void> => processManagersSettled(app());

  /** Waits until the read models have applied this position. */
  const readModelAt = async (position: string): Promise<void> => {
    const response = await http().get('/v1/tenants?limit=1').set(AUTH).set('Min-Position', position);
    expect(response.status).toBe(200);
  };

  return { http, createTenant, createWorkspace, issueKey, revokeKey, logLength, settle, readModelAt };
}

export function bearer(secret: string): Record<string, string> {
  return { Authorization: `Bearer ${secret}` };
}

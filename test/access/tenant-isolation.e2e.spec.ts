import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { accessFixture } from './access-fixture.js';

/**
 * The read models' row-level security takes the tenant from a transaction-local setting on a pooled
 * connection. Many tenants' keys asking at once must each see exactly their own rows, and no
 * connection may keep a setting after its request.
 */
describe('tenant isolation under concurrent requests through one connection pool', () => {
  let app: TestApp;
  const kit = accessFixture(() => app);
  const TENANTS = 12;
  const tenants: { tenantId: string; workspaceIds: string[]; auth: Record<string, string> }[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    let last = '';
    for (let index = 0; index < TENANTS; index++) {
      const tenant = await kit.createTenant(`Isolated ${index}`);
      const workspaceIds = [tenant.rootWorkspaceId];
      // A different number of workspaces per tenant, so a count from the wrong tenant shows.
      for (let n = 0; n <= index; n++) {
        workspaceIds.push((await kit.createWorkspace(tenant.tenantId, `W${n}`)).workspaceId);
      }
      const key = await kit.issueKey(tenant.tenantId, 'reader');
      last = key.position;
      tenants.push({ tenantId: tenant.tenantId, workspaceIds, auth: key.auth });
    }
    await kit.readModelAt(last);
  });
  afterAll(async () => {
    await app.close();
  });

  it('every answer holds only the caller tenant rows, and every pooled connection is clean afterwards', async () => {
    const problems: string[] = [];
    const rounds = 20;
    await Promise.all(
      Array.from({ length: rounds }).flatMap((_, round) =>
        tenants.map(async (tenant, index) => {
          const list = await kit
            .http()
            .get(`/v1/tenants/${tenant.tenantId}/workspaces?limit=500`)
            .set(tenant.auth);
          const items = (list.body as { items?: { tenantId: string; workspaceId: string }[] }).items ?? [];
          const ids = items.map((item) => item.workspaceId).sort();
          if (
            list.status !== 200 ||
            JSON.stringify(ids) !== JSON.stringify([...tenant.workspaceIds].sort())
          ) {
            problems.push(`round ${round}, tenant ${index}: ${list.status} ${ids.length} workspaces`);
          }
          if (items.some((item) => item.tenantId !== tenant.tenantId))
            problems.push(`round ${round}: foreign row`);
          const one = await kit.http().get(`/v1/tenants/${tenant.tenantId}`).set(tenant.auth);
          if (one.status !== 200 || (one.body as { tenantId?: string }).tenantId !== tenant.tenantId) {
            problems.push(`round ${round}, tenant ${index}: GET tenant ${one.status}`);
          }
          // The operator's all-tenants scope interleaved with the tenant-scoped reads.
          const all = await kit.http().get('/v1/tenants?limit=500').set(AUTH);
          if (((all.body as { items?: unknown[] }).items ?? []).length < TENANTS) {
            problems.push(`round ${round}: the operator saw too few tenants`);
          }
        }),
      ),
    );
    expect(problems).toEqual([]);

    const pool = app.runtime.pool;
    const clients = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()));
    try {
      const settings = await Promise.all(
        clients.map(async (client) => {
          const { rows } = await client.query<{ tenant: string | null; all: string | null; role: string }>(
            `SELECT current_setting('app.tenant_id', true) AS tenant,
                    current_setting('app.all_tenants', true) AS all, current_user AS role`,
          );
          return rows[0];
        }),
      );
      expect(clients.length).toBeGreaterThan(1);
      for (const setting of settings) {
        expect(setting?.tenant ?? '').toBe('');
        expect(setting?.all ?? '').toBe('');
        expect(setting?.role).not.toBe('tenancy_api');
      }
    } finally {
      for (const client of clients) client.release();
    }
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { scrapeValues, series } from '../support/metrics-scrape.js';
import { waitFor } from '../support/wait-for.js';

/** tenancy_consumer_batches_total of one consumer, from the service's own /metrics. */
const batchesOf = async (app: TestApp, consumer: string): Promise<number> =>
  scrapeValues((await request(app.server).get('/metrics')).text).get(
    series('tenancy_consumer_batches_total', { consumer }),
  ) ?? 0;

describe('the service: a projection whose rows a command leaves alone', () => {
  let app: TestApp;
  const http = () => request(app.server);

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const checkpointOf = async (projection: string): Promise<string | undefined> =>
    (
      await app.database.pool.query<{ position: string }>(
        'SELECT position FROM read_model.checkpoints WHERE projection = $1',
        [projection],
      )
    ).rows[0]?.position;

  it("opens no transaction for a workspace's creation, and reads with Min-Position do not wait for it", async () => {
    const tenant = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: `Tenant ${randomUUID()}` });
    expect(tenant.status).toBe(201);
    const tenantId = tenant.body.tenantId as string;
    // Its root workspace comes from a process manager: settled once the tree holds it.
    await waitFor(async () => {
      const tree = await http().get(`/v1/tenants/${tenantId}/workspaces`).set(AUTH);
      return tree.status === 200 && (tree.body.items as unknown[]).length === 1;
    }, 10_000);
    const membershipBefore = await batchesOf(app, 'membership-read-model');
    const tenancyBefore = await batchesOf(app, 'tenancy-read-model');

    let last = '';
    for (let index = 0; index < 5; index++) {
      const created = await http()
        .post(`/v1/tenants/${tenantId}/workspaces`)
        .set(AUTH)
        .send({ name: `Workspace ${index}` });
      expect(created.status).toBe(201);
      last = created.body.position as string;
      const read = await http()
        .get(`/v1/tenants/${tenantId}/workspaces/${created.body.workspaceId as string}`)
        .set(AUTH)
        .set('Min-Position', last);
      expect(read.status).toBe(200);
    }
    // Each creation was applied by the tenancy projector before the next (the reads waited for it).
    expect((await batchesOf(app, 'tenancy-read-model')) - tenancyBefore).toBeGreaterThanOrEqual(5);
    expect((await batchesOf(app, 'membership-read-model')) - membershipBefore).toBe(0);
    // The membership projection's checkpoint is stored all the same, on its own, soon after.
    await waitFor(async () => (await checkpointOf('membership-read-model')) === last, 5_000);
    expect(await batchesOf(app, 'membership-read-model')).toBe(membershipBefore);
  });
});

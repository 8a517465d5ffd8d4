import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { useCleanups } from '../faults/fault-kit.js';
import { waitFor } from '../support/wait-for.js';

/**
 * One tenant's clients cannot take an instance's capacity from the others: with
 * TENANCY_RATE_LIMIT_PER_TENANT set, the requests of a tenant's keys beyond that rate (and its
 * burst) are refused with 429 RATE_LIMITED and Retry-After, before their body is read. Other
 * tenants, and the operator, are not held back by it.
 */
describe("a tenant's request rate", () => {
  const cleanup = useCleanups();
  let database: TestDatabase;
  let service: ServiceProcess;
  beforeAll(async () => {
    database = await createTestDatabase();
    service = await startServiceProcess({
      env: { DATABASE_URL: database.url, TENANCY_RATE_LIMIT_PER_TENANT: '1', TENANCY_RATE_LIMIT_BURST: '5' },
    });
    cleanup(() => service.stop());
  }, 60_000);
  afterAll(async () => database?.drop());

  /** A tenant and a key of it, issued by the operator. */
  const tenantWithKey = async (name: string) => {
    const created = await call(service, 'POST', '/v1/tenants', { name });
    expect(created.status).toBe(201);
    const tenant = `/v1/tenants/${String(created.body.tenantId)}`;
    const issued = await call(service, 'POST', `${tenant}/api-keys`, { role: 'admin' });
    expect(issued.status).toBe(201);
    // Min-Position: each read waits for the read model to hold what was just written.
    const key = {
      Authorization: `Bearer ${String(issued.body.secret)}`,
      'Min-Position': String(issued.body.position),
    };
    // Usable once this instance's key registry has it.
    await waitFor(async () => (await call(service, 'GET', tenant, undefined, key)).status !== 401, 10_000);
    return { tenant, key };
  };

  it('refuses what goes past the burst with 429 and Retry-After, holds no other tenant back, and allows again as time passes', async () => {
    const one = await tenantWithKey('Busy');
    const other = await tenantWithKey('Quiet');
    // The waits above may have used some of each burst: let a full one build up again.
    await new Promise((resolve) => setTimeout(resolve, 5_500));

    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await call(service, 'GET', one.tenant, undefined, one.key));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    const refused = answers[5]!;
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(refused.headers.get('retry-after')).toBe('1');

    // Refused before its body is read: a body that would be a 400 is a 429 while the tenant waits.
    const malformed = await fetch(`${service.baseUrl}${one.tenant}/workspaces`, {
      method: 'POST',
      headers: { ...one.key, 'Content-Type': 'application/json' },
      body: '{"name":',
    });
    expect(malformed.status).toBe(429);

    // The other tenant and the operator go on.
    expect((await call(service, 'GET', other.tenant, undefined, other.key)).status).toBe(200);
    expect((await call(service, 'GET', one.tenant)).status).toBe(200);

    // One more a second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await call(service, 'GET', one.tenant, undefined, one.key)).status).toBe(200);
    expect((await call(service, 'GET', one.tenant, undefined, one.key)).status).toBe(429);

    const metrics = await fetch(`${service.baseUrl}/metrics`).then((response) => response.text());
    expect(/^tenancy_http_rate_limited_total (\S+)$/m.exec(metrics)?.[1]).toBe('5');
  }, 60_000);
});

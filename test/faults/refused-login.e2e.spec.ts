import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, testServerUrl, withAdmin, type TestDatabase } from '../support/test-database.js';
import { call, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait-for.js';
import { readinessOnceOk, writeUntilTaken } from './fault-kit.js';

/**
 * The database refuses the service's logins for a while: its role's password was rotated before
 * the service's secret was, or a change to pg_hba.conf shut it out. The sessions it has work on
 * until they end; a new one fails authentication. A request that needs one is told to retry
 * (503), never that it failed for good (500), and all carries on once the logins are taken again,
 * without a restart.
 */
describe("a database that refuses the service's logins for a while", () => {
  const role = `tenancy_rotated_${randomBytes(6).toString('hex')}`;
  let database: TestDatabase;
  let service: ServiceProcess | undefined;

  const password = async (value: string): Promise<void> => {
    await database.pool.query(`ALTER ROLE ${role} PASSWORD '${value}'`);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    await database.pool.query(`CREATE ROLE ${role} LOGIN SUPERUSER PASSWORD 'first-password'`);
    const url = new URL(database.url);
    url.username = role;
    url.password = 'first-password';
    service = await startServiceProcess({ env: { DATABASE_URL: url.toString() } });
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
    await database?.drop();
    await withAdmin(testServerUrl(), (admin) => admin.query(`DROP ROLE IF EXISTS ${role}`));
  });

  it('requests meanwhile answer 503 with Retry-After, readiness says why, and all carries on once the password is put back', async () => {
    const tenant = await call(service!, 'POST', '/v1/tenants', { name: `Rotated ${randomUUID()}` });
    expect(tenant.status).toBe(201);
    const workspaces = `/v1/tenants/${String(tenant.body.tenantId)}/workspaces`;

    await password('second-password');
    // Its sessions end (as a restart, a failover or an idle bound would end them): new ones are refused.
    await database.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [
      role,
    ]);
    await waitFor(async () => (await call(service!, 'GET', workspaces)).status !== 200, 5_000);
    const read = await call(service!, 'GET', workspaces);
    const write = await call(service!, 'POST', workspaces, { name: 'meanwhile' });
    for (const answer of [read, write]) {
      expect([answer.status, answer.body.code]).toEqual([503, 'DATABASE_UNAVAILABLE']);
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    const ready = await call(service!, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(ready.body)).toContain('password authentication failed');

    await password('first-password');
    const created = await writeUntilTaken(service!, workspaces, { name: 'after' });
    expect(created.status).toBe(201);
    const listed = await call(service!, 'GET', workspaces, undefined, {
      'Min-Position': String(created.body.position),
    });
    expect(listed.status).toBe(200);
    const again = await readinessOnceOk(service!);
    expect([again.status, again.body.status]).toEqual([200, 'ok']);
  }, 60_000);
});

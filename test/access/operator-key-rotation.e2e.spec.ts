import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  call,
  PROCESS_OPERATOR_KEY,
  spawnServiceProcess,
  startServiceProcess,
} from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { scratchDir, useCleanups } from '../faults/fault-kit.js';

/** Rotating the operator key across instances without a moment in which either key is refused. */
describe('operator key rotation', () => {
  const cleanup = useCleanups();
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());

  const PREVIOUS = 'the-operator-key-being-retired-0123456789';

  it('accepts the previous key beside the new one while it is set, counts and logs its uses, and no other key', async () => {
    const service = await startServiceProcess({
      env: { DATABASE_URL: database.url, TENANCY_OPERATOR_KEY_PREVIOUS: PREVIOUS },
    });
    cleanup(() => service.stop());
    const created = await call(service, 'POST', '/v1/tenants', { name: 'Rotated' });
    expect(created.status).toBe(201);
    const tenant = `/v1/tenants/${String(created.body.tenantId)}`;
    // Min-Position: the read waits for the read model to hold the tenant just created.
    const withKey = (key: string) => ({
      Authorization: `Bearer ${key}`,
      'Min-Position': String(created.body.position),
    });

    expect((await call(service, 'GET', tenant, undefined, withKey(PREVIOUS))).status).toBe(200);
    expect((await call(service, 'GET', tenant, undefined, withKey(PREVIOUS))).status).toBe(200);
    expect((await call(service, 'GET', tenant, undefined, withKey(`${PREVIOUS}x`))).status).toBe(401);

    const metrics = await fetch(`${service.baseUrl}/metrics`).then((response) => response.text());
    expect(/^tenancy_operator_key_previous_uses_total (\S+)$/m.exec(metrics)?.[1]).toBe('2');
    // Once, not per request, and never the key itself.
    const lines = service.output().split('\n');
    expect(lines.filter((line) => line.includes('TENANCY_OPERATOR_KEY_PREVIOUS'))).toHaveLength(1);
    expect(service.output()).not.toContain(PREVIOUS);
  }, 60_000);

  it('refuses to start with a previous key and no current one, naming both settings and neither key', async () => {
    const service = spawnServiceProcess({
      env: {
        DATABASE_URL: database.url,
        TENANCY_OPERATOR_KEY: '',
        TENANCY_OPERATOR_KEY_PREVIOUS: PREVIOUS,
        // Where a key would be generated, were the setting not refused first.
        TENANCY_DATA_DIR: scratchDir(cleanup, 'tenancy-rotation'),
      },
    });
    cleanup(async () => {
      if (!service.hasExited()) service.child.kill('SIGKILL');
      await service.exited;
    });
    expect(await service.exited).toBe(1);
    expect(service.output()).toMatch(/TENANCY_OPERATOR_KEY_PREVIOUS needs TENANCY_OPERATOR_KEY/);
    expect(service.output()).not.toContain(PREVIOUS);
    expect(service.output()).not.toContain(PROCESS_OPERATOR_KEY);
  }, 60_000);
});

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { quoteIdentifier } from '../../src/database/database-urls.js';
import { call } from '../support/service-process.js';
import { useServiceWithTenant, writeUntilTaken } from './fault-kit.js';

/**
 * The database takes connections but refuses writes: a primary demoted to a standby by a failover
 * while the service's address still leads to it, or a database set read-only by an operator. It
 * will take them again once the address or the setting is put right, so a write is told to retry
 * (503), never that it failed for good (500), and the projections wait instead of giving up.
 */
describe('a database that refuses writes for a while', () => {
  const env = useServiceWithTenant('Read-only');

  /** Sets the database's default for new sessions and makes the service's sessions start again. */
  const readOnly = async (on: boolean): Promise<void> => {
    const { rows } = await env.database.pool.query<{ name: string }>('SELECT current_database() AS name');
    const database = quoteIdentifier(rows[0]?.name ?? '');
    await env.database.pool.query(
      on
        ? `ALTER DATABASE ${database} SET default_transaction_read_only = on`
        : `ALTER DATABASE ${database} RESET default_transaction_read_only`,
    );
    await env.database.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name NOT LIKE 'tenancy-test%'`,
    );
  };

  const workspaces = () => `/v1/tenants/${env.tenantId}/workspaces`;

  it('a write meanwhile is a 503 with Retry-After, readiness says why, the projectors wait, and all carry on once writes are taken again', async () => {
    // An event the projector has yet to apply when the database turns read-only: its statement
    // waits behind this lock until the projector's session is cut.
    const locker = await env.database.pool.connect();
    const first = randomUUID();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE read_model.workspaces IN EXCLUSIVE MODE');
      const created = await call(env.service, 'POST', workspaces(), { workspaceId: first, name: 'before' });
      expect(created.status).toBe(201);
      await readOnly(true);
    } finally {
      await locker.query('COMMIT');
      locker.release();
    }

    const second = { workspaceId: randomUUID(), name: 'after the failover' };
    const refused = await call(env.service, 'POST', workspaces(), second);
    expect([refused.status, refused.body.code]).toEqual([503, 'DATABASE_UNAVAILABLE']);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const ready = await call(env.service, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('degraded');
    expect((ready.body.details as Record<string, { status: string; message?: string }>).database).toEqual(
      expect.objectContaining({
        status: 'degraded',
        message: expect.stringContaining('takes no writes: default_transaction_read_only is on'),
      }),
    );
    // Longer than a projector's five attempts at one event take (about 3 s).
    await new Promise((resolve) => setTimeout(resolve, 5_000));

    await readOnly(false);
    const created = await writeUntilTaken(env.service, workspaces(), second);
    expect(created.status).toBe(201);
    const read = await call(env.service, 'GET', `${workspaces()}/${first}`, undefined, {
      'Min-Position': String(created.body.position),
    });
    expect(read.status).toBe(200);
    const again = await call(env.service, 'GET', '/health/ready');
    expect([again.status, again.body.status]).toEqual([200, 'ok']);
  }, 60_000);
});

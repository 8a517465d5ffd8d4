import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TenantCommandExecutor } from '../../src/application/commands/tenant-command.executor.js';
import { startTestAppOn } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { buildTree, expectChildrenFirst } from '../support/tenant-trees.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The cascade survives a crash: the service process running it is killed (SIGKILL, no shutdown
 * hooks) in the middle of a tenant's deletion, and a fresh instance finishes the job.
 */
describe('cascade deletion after a crash', () => {
  let database: TestDatabase;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await database.drop();
  });

  const countOf = async (tenantId: string, type: string): Promise<number> =>
    (
      await database.pool.query<{ count: number }>(
        'SELECT count(*)::int AS count FROM events WHERE stream_name = $1 AND event_type = $2',
        [`tenant-${tenantId}`, type],
      )
    ).rows[0]?.count ?? 0;

  it('a service killed halfway through deleting 2,000 workspaces leaves the rest to the next instance, which finishes children-first', async () => {
    const seeding = await startTestAppOn(database, { runConsumers: false });
    const tenantId = await buildTree(seeding, [10, 4, 4, 4, 3]);
    const total = await countOf(tenantId, 'WorkspaceCreated');
    await seeding.app
      .get(TenantCommandExecutor)
      .execute(
        { type: 'DeleteTenant', tenantId },
        { actor: 'test', correlationId: randomUUID(), causationId: randomUUID(), now: new Date() },
      );
    await seeding.close();

    child = spawn(process.execPath, ['dist/src/main.js'], {
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        PORT: '0',
        TENANCY_OPERATOR_KEY: 'crash-test-operator-key-long-enough-0123456789',
        TENANCY_CASCADE_BATCH_SIZE: '20',
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    await waitFor(async () => (await countOf(tenantId, 'WorkspaceDeleted')) >= total / 3, 60_000, 5);
    child.kill('SIGKILL');
    await new Promise((resolve) => child?.once('exit', resolve));
    child = undefined;

    const deletedAtCrash = await countOf(tenantId, 'WorkspaceDeleted');
    expect(deletedAtCrash).toBeLessThan(total);
    expect(await countOf(tenantId, 'TenantDeleted')).toBe(0);

    const restarted = await startTestAppOn(database, { cascadeBatchSize: 200 });
    try {
      await waitFor(async () => {
        const { rows } = await database.pool.query<{ status: string }>(
          'SELECT status FROM read_model.tenants WHERE tenant_id = $1',
          [tenantId],
        );
        return rows[0]?.status === 'deleted';
      }, 60_000);
      expect(await countOf(tenantId, 'WorkspaceDeleted')).toBe(total);
      expect(await countOf(tenantId, 'TenantDeleted')).toBe(1);
      await expectChildrenFirst(restarted, tenantId);
      const failures = await database.pool.query('SELECT * FROM read_model.projection_failures');
      expect(failures.rows).toEqual([]);
      const left = await database.pool.query(
        'SELECT count(*)::int AS count FROM read_model.workspaces WHERE tenant_id = $1',
        [tenantId],
      );
      expect(left.rows[0]).toEqual({ count: 0 });
    } finally {
      await restarted.close();
    }
  }, 180_000);
});

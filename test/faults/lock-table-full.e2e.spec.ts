import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { call } from '../support/service-process.js';
import { readinessOnceOk, useServiceWithTenant, writeUntilTaken } from './fault-kit.js';

/** The first key of the locks taken here: a class of advisory locks the service never takes. */
const HOG_CLASS = -1_999_999_999;

/**
 * Takes session advisory locks on the connection until PostgreSQL's shared lock table has no room
 * left (SQLSTATE 53200, "out of shared memory"), and returns how many it took before the statement
 * that failed. Session locks stay taken after that statement, and after a rollback, so the table
 * stays full until they are released.
 */
async function fillLockTable(hog: pg.PoolClient): Promise<number> {
  for (let from = 0; from < 1_000_000; from += 500) {
    try {
      await hog.query(
        'SELECT count(pg_advisory_lock($1::int, i)) FROM generate_series($2::int, $3::int) AS i',
        [HOG_CLASS, from, from + 499],
      );
    } catch (error) {
      expect((error as { code?: string }).code).toBe('53200');
      return from;
    }
  }
  throw new Error('the lock table never filled up');
}

/**
 * Appends on the connection, as another instance of the service would, a copy of the stored event
 * that created `like`, for a new workspace: this instance is not woken, and finds the event when it
 * next polls the log.
 */
async function appendCopy(
  client: pg.PoolClient,
  like: string,
  workspace: { workspaceId: string; name: string },
) {
  const { rows } = await client.query<{ appended: boolean }>(
    `SELECT t.appended FROM events e,
       es_try_append(e.stream_name, 'any', ARRAY[gen_random_uuid()], ARRAY[e.event_type],
         ARRAY[e.data || jsonb_build_object('workspaceId', $2::text, 'name', $3::text)], ARRAY[e.metadata]) AS t
     WHERE e.event_type = 'WorkspaceCreated' AND e.data->>'workspaceId' = $1`,
    [like, workspace.workspaceId, workspace.name],
  );
  expect(rows).toEqual([{ appended: true }]);
}

/**
 * Another session of the cluster has taken every entry of PostgreSQL's shared lock table (a batch
 * job taking a lock per row, a migration touching thousands of partitions). Until it lets go, any
 * statement that needs an entry of its own fails with "out of shared memory" (53200), which is not
 * the request's fault nor the event's: a write is told to retry (503), and the projectors wait
 * rather than count it against the event they were applying and stop.
 */
describe('a cluster whose lock table another session has filled', () => {
  const env = useServiceWithTenant('Lock table');
  const workspaces = () => `/v1/tenants/${env.tenantId}/workspaces`;

  it('a write meanwhile is a 503 with Retry-After, the projectors wait, and all carry on once the locks are let go', async () => {
    const hog = await env.database.pool.connect();
    const before = { workspaceId: randomUUID(), name: 'before' };
    const elsewhere = { workspaceId: randomUUID(), name: 'from another instance' };
    const during = { workspaceId: randomUUID(), name: 'during' };
    let refused: Awaited<ReturnType<typeof call>>;
    try {
      const created = await call(env.service, 'POST', workspaces(), before);
      expect(created.status).toBe(201);
      // An event the projectors have yet to apply when the table fills: appended in the same
      // transaction that fills it (session locks outlive the savepoint the full table aborts),
      // then the entries its commit frees taken too. Applying it needs an entry of their own.
      await hog.query('BEGIN');
      await appendCopy(hog, before.workspaceId, elsewhere);
      await hog.query('SAVEPOINT fill');
      const held = await fillLockTable(hog);
      await hog.query('ROLLBACK TO SAVEPOINT fill');
      await hog.query('COMMIT');
      expect(held).toBeGreaterThan(1_000);

      // Other sessions free entries now and then (a projector's attempt at the event, rolled
      // back), and a write that finds one free is taken (201): take them again and write again,
      // until a write meets the full table.
      for (let attempt = 1; ; attempt++) {
        await fillLockTable(hog);
        refused = await call(env.service, 'POST', workspaces(), {
          workspaceId: randomUUID(),
          name: `during ${attempt}`,
        });
        if (refused.status !== 201 || attempt === 10) break;
      }
      // Longer than a projector's five attempts at one event take (about 3 s).
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    } finally {
      await hog.query('ROLLBACK').catch(() => undefined);
      await hog.query('SELECT pg_advisory_unlock_all()');
      hog.release();
    }
    expect([refused.status, refused.body.code]).toEqual([503, 'DATABASE_UNAVAILABLE']);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);

    const answer = await writeUntilTaken(env.service, workspaces(), during);
    expect(answer.status).toBe(201);
    const read = await call(env.service, 'GET', `${workspaces()}/${during.workspaceId}`, undefined, {
      'Min-Position': String(answer.body.position),
    });
    expect([read.status, read.body.name]).toEqual([200, 'during']);
    const other = await call(env.service, 'GET', `${workspaces()}/${elsewhere.workspaceId}`);
    expect([other.status, other.body.name]).toEqual([200, elsewhere.name]);
    // Every consumer (the audit log's too) is applying again, none stopped at the event.
    expect((await readinessOnceOk(env.service)).body).toEqual(expect.objectContaining({ status: 'ok' }));
  }, 90_000);
});

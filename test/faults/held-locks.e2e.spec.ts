import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { call } from '../support/service-process.js';
import { waitFor } from '../support/wait-for.js';
import { useCleanups, useServiceWithTenant } from './fault-kit.js';

/**
 * A lock held on the event log (a migration, a VACUUM FULL, a forgotten LOCK TABLE): statements of
 * the service wait behind it until they are cancelled (by its statement timeout, or by an
 * operator's pg_cancel_backend). Nothing is written meanwhile, so the answer is "retry later".
 */
describe('a lock held on the event log', () => {
  const cleanup = useCleanups();
  const env = useServiceWithTenant('Locks');

  /** Holds an exclusive lock on the events table until the returned function is called. */
  const lockEvents = async (): Promise<() => Promise<void>> => {
    const holder = new pg.Client({ connectionString: env.database.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      await holder.query('ROLLBACK');
      await holder.end();
    };
    cleanup(release);
    return release;
  };

  it('a write whose statement is cancelled while it waits answers 503 DATABASE_UNAVAILABLE with Retry-After, and nothing is written', async () => {
    const release = await lockEvents();
    const workspaceId = randomUUID();
    const answer = call(env.service, 'POST', `/v1/tenants/${env.tenantId}/workspaces`, {
      workspaceId,
      name: 'behind the lock',
    });
    // The request's statement waits behind the lock: the append, or the read of the tenant's events
    // if the cached state went stale meanwhile (the root's bootstrap). Every statement of the
    // service's pool that waits is cancelled until the answer comes; a background reader cancelled
    // with it only reads again.
    let answered = false;
    const write = await Promise.race([
      answer.finally(() => {
        answered = true;
      }),
      (async () => {
        for (const deadline = Date.now() + 10_000; !answered && Date.now() < deadline;) {
          await env.database.pool.query(
            `SELECT pg_cancel_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'tenancy' AND wait_event_type = 'Lock'`,
          );
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return answer;
      })(),
    ]);
    await release();

    expect({ status: write.status, code: write.body.code }).toEqual({
      status: 503,
      code: 'DATABASE_UNAVAILABLE',
    });
    expect(write.headers.get('retry-after')).toBe('1');
    expect(write.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const { rows } = await env.database.pool.query(
      `SELECT 1 FROM events WHERE event_type = 'WorkspaceCreated' AND data->>'workspaceId' = $1`,
      [workspaceId],
    );
    expect(rows).toHaveLength(0);
    // The retry the answer asks for succeeds.
    const again = await call(env.service, 'POST', `/v1/tenants/${env.tenantId}/workspaces`, {
      workspaceId,
      name: 'behind the lock',
    });
    expect(again.status).toBe(201);
  }, 30_000);

  it('readiness answers within 3 s while the lock is held, naming the check that does not answer, and every probe after it ends is ok', async () => {
    const release = await lockEvents();
    const probes = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const startedAt = Date.now();
        const ready = await call(env.service, 'GET', '/health/ready');
        return { ...ready, tookMs: Date.now() - startedAt };
      }),
    );
    await release();
    for (const probe of probes) {
      expect(probe.tookMs).toBeLessThan(3_000);
      expect(probe.status).toBe(503);
      const failed = probe.body.error as Record<string, { status: string; message?: string }>;
      expect(failed.eventStore).toMatchObject({
        status: 'down',
        message: expect.stringMatching(/no answer/),
      });
      expect((probe.body.details as Record<string, { status: string }>).database?.status).toBe('up');
    }
    await waitFor(async () => (await call(env.service, 'GET', '/health/ready')).body.status === 'ok', 3_000);
  }, 45_000);

  it('a process manager whose appends keep being cancelled (statement timeouts behind a lock) resumes once they pass: the cascade finishes, readiness is ok', async () => {
    const tenant = await call(env.service, 'POST', '/v1/tenants', { name: `Cascade ${randomUUID()}` });
    expect(tenant.status).toBe(201);
    const doomed = String(tenant.body.tenantId);
    for (let n = 0; n < 3; n++) {
      expect(
        (await call(env.service, 'POST', `/v1/tenants/${doomed}/workspaces`, { name: `w${n}` })).status,
      ).toBe(201);
    }
    // Each of the cascade's appends waits (as behind a lock) until it is cancelled, as the
    // statement timeout would after 30 s; here the cancel comes at once, more times than the
    // consumer's attempts at one event.
    await env.database.pool.query(`CREATE FUNCTION held_append() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.event_type = 'WorkspaceDeleted' THEN PERFORM pg_sleep(5); END IF; RETURN NEW; END $$`);
    await env.database.pool.query(
      'CREATE TRIGGER held_append BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION held_append()',
    );
    const dropTrigger = async (): Promise<void> => {
      await env.database.pool.query('DROP TRIGGER IF EXISTS held_append ON events');
    };
    cleanup(dropTrigger);
    expect((await call(env.service, 'DELETE', `/v1/tenants/${doomed}`)).status).toBe(202);
    let cancelled = 0;
    const until = Date.now() + 8_000;
    while (Date.now() < until) {
      const { rows } = await env.database.pool.query(
        `SELECT pg_cancel_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()`,
      );
      cancelled += rows.length;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await dropTrigger();
    expect(cancelled).toBeGreaterThanOrEqual(5);

    let cascade: unknown;
    let last: Record<string, unknown> = {};
    await waitFor(async () => {
      const ready = await call(env.service, 'GET', '/health/ready');
      cascade = (ready.body.details as { consumers: Record<string, unknown> }).consumers['cascade-deletion'];
      last = (await call(env.service, 'GET', `/v1/tenants/${doomed}`)).body;
      return ready.body.status === 'ok' && last.status === 'deleted';
    }, 15_000).catch(() => undefined);
    // On a failure, what the process manager logged meanwhile is printed: this failed once in CI
    // (still reconnecting, with the tenant deleted), and not in eight runs here.
    const cascadeLog = env.service
      .output()
      .split('\n')
      .filter((line) => line.includes('cascade-deletion'));
    if ((cascade as { state?: string } | undefined)?.state !== 'active')
      process.stderr.write(`the process manager's log lines:\n${cascadeLog.join('\n')}\n`);
    expect({ cascade, tenant: last.status }).toMatchObject({
      cascade: { state: 'active' },
      tenant: 'deleted',
    });
  }, 45_000);
});

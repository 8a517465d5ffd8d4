import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { call } from '../support/service-process.js';
import { readinessOnceOk, useServiceWithTenant } from './fault-kit.js';
import { startWriteLoad, statusCounts } from './write-load.js';

/**
 * Opens connections to the database until the server refuses one for want of a slot (SQLSTATE
 * 53300, "sorry, too many clients already"), and returns the ones it got.
 */
async function takeEverySlot(url: string): Promise<pg.Client[]> {
  const taken: pg.Client[] = [];
  for (;;) {
    const batch = Array.from({ length: 10 }, () => new pg.Client({ connectionString: url }));
    const outcomes = await Promise.allSettled(batch.map((client) => client.connect()));
    const refused = outcomes.find((outcome) => outcome.status === 'rejected');
    batch.forEach((client, index) => {
      if (outcomes[index]?.status === 'fulfilled') taken.push(client);
      // A refused client's socket is closed by the server; ending it settles the client's state.
      else void client.end().catch(() => undefined);
    });
    if (refused) {
      expect((refused.reason as { code?: string }).code).toBe('53300');
      return taken;
    }
    if (taken.length > 5_000) throw new Error('the server never ran out of connection slots');
  }
}

/**
 * Something else on the cluster (a deploy that doubled its pools, a leak in another application)
 * takes every connection slot just as the service's connections are cut, so each new one the
 * service opens is refused with "too many clients already" (53300). That is the server's state, not the
 * request's: writes are told to retry (503, never 500), and the service carries on by itself once
 * slots are free again.
 */
describe('a cluster with no connection slot left', () => {
  const env = useServiceWithTenant('Connection slots');

  it('writes meanwhile answer 201 or 503, never 500, and writes, projections and readiness recover once slots free up', async () => {
    const load = startWriteLoad(env.service, env.tenantId, 4);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    let held: pg.Client[] = [];
    let readyDuring: Awaited<ReturnType<typeof call>> | undefined;
    try {
      // Frozen while its sessions are cut and the slots taken, so that it cannot open new ones
      // first: every connection it opens after is refused.
      env.service.child.kill('SIGSTOP');
      await env.database.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name NOT LIKE 'tenancy-test%'`,
      );
      held = await takeEverySlot(env.database.url);
      expect(held.length).toBeGreaterThan(10);
      env.service.child.kill('SIGCONT');
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      readyDuring = await call(env.service, 'GET', '/health/ready');
    } finally {
      env.service.child.kill('SIGCONT');
      await Promise.all(held.map((client) => client.end().catch(() => undefined)));
    }
    const freedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const outcomes = await load.stop();

    const counts = statusCounts(outcomes);
    expect(Object.keys(counts).filter((status) => status !== '201' && status !== '503')).toEqual([]);
    expect(counts['503']).toBeGreaterThan(0);
    expect(outcomes.some((outcome) => outcome.at > freedAt && outcome.status === 201)).toBe(true);
    // Readiness said why.
    expect(readyDuring?.status).toBe(503);
    expect(JSON.stringify(readyDuring?.body.details)).toContain('too many clients');

    const probe = { workspaceId: randomUUID(), name: 'after the slots came back' };
    const created = await call(env.service, 'POST', `/v1/tenants/${env.tenantId}/workspaces`, probe);
    expect(created.status).toBe(201);
    const read = await call(
      env.service,
      'GET',
      `/v1/tenants/${env.tenantId}/workspaces/${probe.workspaceId}`,
      undefined,
      { 'Min-Position': String(created.body.position) },
    );
    expect(read.status).toBe(200);
    expect((await readinessOnceOk(env.service)).body).toEqual(expect.objectContaining({ status: 'ok' }));

    // Every acknowledged workspace is in the read model.
    const acknowledged = outcomes
      .filter((outcome) => outcome.status === 201)
      .map((outcome) => outcome.workspaceId);
    const { rows } = await env.database.pool.query<{ missing: number }>(
      `SELECT count(*)::int AS missing FROM unnest($1::uuid[]) AS a(id)
       WHERE NOT EXISTS (SELECT 1 FROM read_model.workspaces w WHERE w.workspace_id = a.id)`,
      [acknowledged],
    );
    expect(rows[0]?.missing).toBe(0);
  }, 90_000);
});

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { call, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import { useCleanups } from './fault-kit.js';

type Consumers = Record<string, { state?: string }>;

const consumersOf = async (service: ServiceProcess): Promise<Consumers> => {
  const ready = await call(service, 'GET', '/health/ready');
  return (ready.body.details as { consumers: Consumers }).consumers;
};

/**
 * An instance that holds the consumers' locks and then stops answering without its connections
 * closing (a frozen process or virtual machine, a network cut that sends no reset): PostgreSQL
 * keeps an idle session, and its advisory locks, for as long as TCP says the peer is there.
 */
describe('an instance frozen while its consumers are active', () => {
  const cleanup = useCleanups();

  it('loses them to another instance once its consumer sessions have been silent for the timeout', async () => {
    const database = await createTestDatabase();
    cleanup(() => database.drop());
    const env = { DATABASE_URL: database.url, TENANCY_CONSUMER_SESSION_TIMEOUT_MS: '1000' };
    const first = await startServiceProcess({ env });
    cleanup(() => first.stop());
    await waitFor(async () => (await consumersOf(first))['tenancy-read-model']?.state === 'active', 10_000);
    const second = await startServiceProcess({ env });
    cleanup(() => second.stop());
    expect((await consumersOf(second))['tenancy-read-model']?.state).toBe('standby');

    first.child.kill('SIGSTOP');
    cleanup(async () => first.child.kill('SIGCONT'));
    const created = await call(second, 'POST', '/v1/tenants', { name: `Frozen ${randomUUID()}` });
    expect(created.status).toBe(201);
    const read = await call(second, 'GET', `/v1/tenants/${String(created.body.tenantId)}`, undefined, {
      'Min-Position': String(created.body.position),
    });
    expect([read.status, read.body.code]).toEqual([200, undefined]);
    expect((await consumersOf(second))['tenancy-read-model']?.state).toBe('active');

    // Thawed, the first finds its sessions gone and stands by instead of applying the log twice.
    first.child.kill('SIGCONT');
    await waitFor(async () => (await consumersOf(first))['tenancy-read-model']?.state !== 'active', 10_000);
    expect((await consumersOf(second))['tenancy-read-model']?.state).toBe('active');
  }, 60_000);
});

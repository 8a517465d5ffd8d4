import { describe, expect, it } from '@jest/globals';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { useCleanups } from '../faults/fault-kit.js';
import { call, startServiceProcess } from '../support/service-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { writeFlatTenant } from '../support/tenant-trees.js';
import { waitFor } from '../support/wait-for.js';

const TENANTS = 8;
const EVENTS_PER_TENANT = 50;
const BUDGET = 120;

/**
 * The service as a process, started on a log another instance wrote: following it, the root
 * bootstrap decides on every tenant, so every tenant's state is folded. What it keeps in memory
 * stays within TENANCY_STATE_CACHE_EVENTS, and a tenant let go is read again, whole, when used.
 */
describe('the folded tenant states the service keeps', () => {
  const cleanup = useCleanups();

  it('stay within TENANCY_STATE_CACHE_EVENTS while the service follows a log it did not write', async () => {
    const database = await createTestDatabase();
    cleanup(() => database.drop());
    const store = new PostgresEventStore(database.pool, database.url);
    cleanup(() => store.close());
    const tenants: string[] = [];
    for (let tenant = 0; tenant < TENANTS; tenant++)
      tenants.push(await writeFlatTenant(store, EVENTS_PER_TENANT));

    const service = await startServiceProcess({
      env: { DATABASE_URL: database.url, TENANCY_STATE_CACHE_EVENTS: String(BUDGET) },
    });
    cleanup(() => service.stop());
    const gauge = (metrics: string, name: string) =>
      Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    const scrape = () => fetch(`${service.baseUrl}/metrics`).then((response) => response.text());

    // Every tenant decided on by the root bootstrap (none needed a root: each has one).
    await waitFor(
      async () => gauge(await scrape(), 'tenancy_consumer_lag_events\\{consumer="root-bootstrap"\\}') === 0,
      20_000,
    );
    const afterFollowing = await scrape();
    expect(gauge(afterFollowing, 'tenancy_tenant_state_events_cached')).toBeLessThanOrEqual(BUDGET);
    expect(gauge(afterFollowing, 'tenancy_tenant_states_cached')).toBe(
      Math.floor(BUDGET / EVENTS_PER_TENANT),
    );

    // The first tenant went long ago; a workspace created in it is decided on all its events.
    const created = await call(service, 'POST', `/v1/tenants/${tenants[0]}/workspaces`, {
      name: 'after eviction',
    });
    expect(created.status).toBe(201);
    const tenant = await call(service, 'GET', `/v1/tenants/${tenants[0]}`, undefined, {
      'Min-Position': String(created.body.position),
    });
    expect(tenant.status).toBe(200);
    expect(tenant.body.workspaceCount).toBe(EVENTS_PER_TENANT);
    expect(gauge(await scrape(), 'tenancy_tenant_state_events_cached')).toBeLessThanOrEqual(BUDGET);

    expect(await service.stop()).toBe(0);
  }, 90_000);
});

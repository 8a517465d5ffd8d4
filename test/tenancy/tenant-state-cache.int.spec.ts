import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { TenantCommandExecutor } from '../../src/application/commands/tenant-command.executor.js';
import { loadConfig } from '../../src/config/app-config.js';
import { Metrics } from '../../src/observability/metrics.js';
import { contextOf, writeFlatTenant } from '../support/tenant-trees.js';
import { useTestStore } from '../support/test-store.js';

/**
 * The folded tenant states one instance keeps are bounded by the events folded into them, not only
 * by how many tenants they are: a service catching up on a long log folds every tenant once (the
 * root bootstrap decides on each), and a count alone let 1,000 tenants of 1,000 workspaces take
 * the process to 800 MiB.
 */
describe('the cache of folded tenant states', () => {
  const fixture = useTestStore();

  const writeTenant = (events: number) => writeFlatTenant(fixture.store, events);

  const executorWithBudget = (events: number) => {
    const metrics = new Metrics();
    const executor = new TenantCommandExecutor(
      fixture.store,
      metrics,
      loadConfig({ TENANCY_STATE_CACHE_EVENTS: String(events) }),
    );
    return { executor, metrics };
  };

  const cachedIn = (executor: TenantCommandExecutor, tenants: Record<string, string>) =>
    Object.entries(tenants)
      .filter(([, tenantId]) => executor.cached(tenantId) !== undefined)
      .map(([name]) => name);

  it('lets the least recently used tenants go once the states hold more events than the budget', async () => {
    const tenants = { a: await writeTenant(40), b: await writeTenant(40), c: await writeTenant(40) };
    const { executor, metrics } = executorWithBudget(100);
    await executor.read(tenants.a);
    await executor.read(tenants.b);
    expect(cachedIn(executor, tenants)).toEqual(['a', 'b']);
    await executor.read(tenants.a);
    await executor.read(tenants.c);
    // 120 events would be over the budget: b, used least recently, went.
    expect(cachedIn(executor, tenants)).toEqual(['a', 'c']);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^tenancy_tenant_states_cached 2$/m);
    expect(text).toMatch(/^tenancy_tenant_state_events_cached 80$/m);
  });

  it('keeps the tenant in use whatever its size, and lets it go for the next one', async () => {
    const tenants = { big: await writeTenant(150), small: await writeTenant(10) };
    const { executor } = executorWithBudget(100);
    await executor.read(tenants.big);
    expect(cachedIn(executor, tenants)).toEqual(['big']);
    await executor.read(tenants.small);
    expect(cachedIn(executor, tenants)).toEqual(['small']);
  });

  it('counts events folded in by commands and from the log, and decides correctly after an eviction', async () => {
    const tenants = { a: await writeTenant(30), b: await writeTenant(30) };
    const { executor, metrics } = executorWithBudget(70);
    await executor.read(tenants.a);
    await executor.read(tenants.b);
    // b grows by its own commands (no read of the log): with a's 30 events, its 41st passes the budget.
    for (let index = 0; index < 15; index++) {
      await executor.execute(
        { type: 'CreateWorkspace', tenantId: tenants.b, workspaceId: randomUUID(), name: `more ${index}` },
        contextOf('test'),
      );
      expect(cachedIn(executor, tenants)).toEqual(index < 10 ? ['a', 'b'] : ['b']);
    }
    expect(await metrics.registry.metrics()).toMatch(/^tenancy_tenant_state_events_cached 45$/m);
    // a, read again from the log, is whole: its next workspace is decided on all 30 events.
    const outcome = await executor.execute(
      { type: 'CreateWorkspace', tenantId: tenants.a, workspaceId: randomUUID(), name: 'after eviction' },
      contextOf('test'),
    );
    expect(outcome.revision).toBe(30);
    expect(outcome.state.workspaces.size).toBe(30);
  });
});

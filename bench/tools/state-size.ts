/**
 * Diagnostic for the memory miss (not part of the suite): the heap a folded tenant state holds, for
 * the permission scenarios' tenant (100,000 workspaces 8 deep, 10,100 members, 1,000 groups, 50,000
 * grants) or a smaller one. Each event is decoded from JSON, as the service decodes stored events.
 * Usage: node --expose-gc --import tsx bench/tools/state-size.ts [workspaces]
 */
import { randomUUID } from 'node:crypto';
import { evolve, initialState } from '../../src/tenancy/tenancy.decider.js';
import { rootWorkspaceCreated } from '../../src/tenancy/root-workspace.js';
import type { TenancyEvent } from '../../src/tenancy/tenancy.events.js';
import type { TenantState } from '../../src/tenancy/tenant.state.js';
import { planTree, shapeFor, workspaceCreated } from '../lib/events.js';
import { round } from '../lib/stats.js';
import { planMembership, SEED_SIZES } from '../scenarios/permissions.seed.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function heapMb(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed / 1024 ** 2;
}

const full = SEED_SIZES.full;
const workspaceCount = Number(process.argv[2] ?? full.workspaces);
const scale = workspaceCount / full.workspaces;
const tenantId = randomUUID();
const workspaces = planTree(tenantId, shapeFor(workspaceCount - 2, 8, 10), 'p');
const { events } = planMembership(tenantId, workspaces, {
  workspaces: workspaceCount,
  users: Math.round(full.users * scale),
  groups: Math.round(full.groups * scale),
  grants: Math.round(full.grants * scale),
  lookupUsers: Math.round(full.lookupUsers * scale),
});
const serialised = [
  JSON.stringify({ type: 'TenantCreated', data: { tenantId, name: 'size' } }),
  JSON.stringify(rootWorkspaceCreated(tenantId)),
  ...workspaces.map((w) =>
    JSON.stringify(workspaceCreated(tenantId, w.workspaceId, w.parentWorkspaceId, w.name)),
  ),
  ...events.map((event) => JSON.stringify(event)),
];
workspaces.length = 0;
events.length = 0;

const before = heapMb();
let state: TenantState = initialState();
for (const text of serialised) state = evolve(state, JSON.parse(text) as TenancyEvent);
const after = heapMb();
console.log(
  JSON.stringify({
    events: serialised.length,
    workspaces: state.workspaces.size,
    stateHeapMb: round(after - before, 1),
    bytesPerEvent: Math.round(((after - before) * 1024 ** 2) / serialised.length),
  }),
);

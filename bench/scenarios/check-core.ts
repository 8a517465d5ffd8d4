import { randomUUID } from 'node:crypto';
import { decodeTenancyEvent } from '../../src/stored-events/tenancy-event.codec.js';
import type { PrincipalRef } from '../../src/tenancy/membership.events.js';
import { checkPermission, scopesOf, type Permission } from '../../src/tenancy/permissions.js';
import { rootWorkspaceCreated } from '../../src/tenancy/root-workspace.js';
import { evolve, initialState } from '../../src/tenancy/tenancy.decider.js';
import type { TenancyEvent } from '../../src/tenancy/tenancy.events.js';
import type { TenantState } from '../../src/tenancy/tenant.state.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { planTree, shapeFor, workspaceCreated } from '../lib/events.js';
import { round } from '../lib/stats.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';
import { permissionTenant, planMembership, randomSource } from './permissions.seed.js';

const PERMISSIONS: readonly Permission[] = [
  'workspace.read',
  'workspace.write',
  'workspace.delete',
  'grants.manage',
];

interface Workload {
  readonly principals: PrincipalRef[];
  readonly workspaceIds: string[];
  readonly permissions: Permission[];
}

function workloadFor(users: readonly string[], workspaceIds: readonly string[], count: number): Workload {
  const random = randomSource(11);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  return {
    principals: Array.from({ length: count }, () => ({ type: 'user' as const, id: pick(users) })),
    workspaceIds: Array.from({ length: count }, () => pick(workspaceIds)),
    permissions: Array.from({ length: count }, () => pick(PERMISSIONS)),
  };
}

/** Checks per second over the workload, best of three rounds (the machine is shared). */
function rate(work: Workload, once: (index: number) => boolean): { perSecond: number; allowed: number } {
  let best = 0;
  let allowed = 0;
  for (let round = 0; round < 3; round++) {
    allowed = 0;
    const started = performance.now();
    for (let index = 0; index < work.principals.length; index++) if (once(index)) allowed += 1;
    best = Math.max(best, work.principals.length / ((performance.now() - started) / 1000));
  }
  return { perSecond: best, allowed };
}

/** A tenant 100 times smaller with the same depth, groups per user and grants per user, folded in memory. */
function smallTenant(): { state: TenantState; users: readonly string[]; workspaceIds: string[] } {
  const tenantId = randomUUID();
  const workspaces = planTree(tenantId, shapeFor(998, 8, 10), 's');
  const { events, users } = planMembership(
    tenantId,
    workspaces,
    { workspaces: 1_000, users: 1_000, groups: 100, grants: 5_000, lookupUsers: 0 },
    13,
  );
  const all: TenancyEvent[] = [
    { type: 'TenantCreated', data: { tenantId, name: 'small' } },
    rootWorkspaceCreated(tenantId),
    ...workspaces.map((w) => workspaceCreated(tenantId, w.workspaceId, w.parentWorkspaceId, w.name)),
    ...events,
  ];
  return {
    state: all.reduce(evolve, initialState()),
    users,
    workspaceIds: workspaces.map((w) => w.workspaceId),
  };
}

export const checkCoreScenario: Scenario = {
  id: 'check-core',
  description:
    'the permission check function in process: random (member, workspace, permission) in the seeded tenant (100,000 workspaces 8 deep, 10,000 members in 1,000 groups, 50,000 grants)',
  target: {
    text: '>= 200,000 checks/s; no scan: per ancestor walk, at least half the rate of a tenant 100x smaller',
    checks: [
      { metric: 'figure', op: '>=', value: 200_000 },
      { metric: 'normalizedSizeRatio', op: '>=', value: 0.5 },
    ],
  },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    const tenant = await permissionTenant(ctx, size);
    const notes = [...tenant.notes];
    // The state the service folds: the tenant's own stream, read and decoded the same way.
    const foldStarted = performance.now();
    let state = initialState();
    let events = 0;
    for await (const recorded of ctx.eventStore.readStream(tenantStreamName(tenant.tenantId))) {
      state = evolve(state, decodeTenancyEvent(recorded));
      events += 1;
    }
    notes.push(
      `folded the tenant's ${events.toLocaleString('en')} events in ${round((performance.now() - foldStarted) / 1000, 2)} s`,
    );

    const count = size === 'quick' ? 200_000 : 1_000_000;
    const workspaceIds = tenant.workspaces.map((workspace) => workspace.workspaceId);
    const work = workloadFor(tenant.users, workspaceIds, count);
    const checks = rate(
      work,
      (i) => checkPermission(state, work.principals[i]!, work.permissions[i]!, work.workspaceIds[i]!).allowed,
    );
    // The part no check can avoid: finding the workspace's ancestors.
    const walk = rate(work, (i) => scopesOf(state, work.workspaceIds[i]!).length > 0);

    const small = smallTenant();
    const smallWork = workloadFor(small.users, small.workspaceIds, count);
    const smallChecks = rate(
      smallWork,
      (i) =>
        checkPermission(
          small.state,
          smallWork.principals[i]!,
          smallWork.permissions[i]!,
          smallWork.workspaceIds[i]!,
        ).allowed,
    );
    const smallWalk = rate(smallWork, (i) => scopesOf(small.state, smallWork.workspaceIds[i]!).length > 0);
    const groupsPerUser =
      tenant.users.reduce((sum, userId) => sum + state.membership.groupsOf(userId).size, 0) /
      tenant.users.length;
    const sizeRatio = checks.perSecond / smallChecks.perSecond;
    // A larger tenant's maps miss the CPU caches more often, which slows the walk as much as the
    // check: compared per walk, what is left is how the check's own work grows with the tenant.
    const normalizedSizeRatio =
      checks.perSecond / walk.perSecond / (smallChecks.perSecond / smallWalk.perSecond);
    notes.push(
      `${count.toLocaleString('en')} checks per round, best of 3 rounds; ${round((100 * checks.allowed) / count, 1)}% allowed; ${round(groupsPerUser, 1)} groups per member on average`,
      `ceiling: the ancestor walk alone (O(depth)) on the same workload, ${Math.round(walk.perSecond).toLocaleString('en')}/s`,
      `same workload shape on a tenant of ${small.workspaceIds.length + 1} workspaces (same depth, groups and grants per member): ${Math.round(smallChecks.perSecond).toLocaleString('en')} checks/s and ${Math.round(smallWalk.perSecond).toLocaleString('en')} walks/s; big/small ${round(sizeRatio, 2)} raw, ${round(normalizedSizeRatio, 2)} per ancestor walk`,
    );
    return {
      figure: Math.round(checks.perSecond),
      unit: 'checks/s',
      ceiling: Math.round(walk.perSecond),
      ceilingUnit: 'ancestor walks/s',
      ratio: round(checks.perSecond / walk.perSecond, 3),
      metrics: {
        checksPerSecond: Math.round(checks.perSecond),
        smallTenantChecksPerSecond: Math.round(smallChecks.perSecond),
        sizeRatio: round(sizeRatio, 3),
        normalizedSizeRatio: round(normalizedSizeRatio, 3),
        groupsPerMember: round(groupsPerUser, 1),
      },
      verified: {
        foldedEvents: events,
        workspaces: state.liveWorkspaceCount,
        members: state.membership.members.size,
        grants: state.membership.grants.size,
        allowedOfChecks: `${checks.allowed}/${count}`,
      },
      verifiedOk:
        state.liveWorkspaceCount === tenant.counts.workspaces &&
        state.membership.members.size === tenant.counts.members &&
        checks.allowed > 0 &&
        checks.allowed < count,
      notes,
    };
  },
};

/**
 * The tenant the permission scenarios share, seeded once per run: a workspace tree up to 8 deep,
 * members, groups of 10 to 500 members and role grants, appended through the EventStore port as the
 * service writes them (the decider's own events, in an order its rules accept).
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyError, type EventStore, type Position } from '../../src/event-store/event-store.port.js';
import type { Role } from '../../src/tenancy/membership.events.js';
import type { TenancyEvent } from '../../src/tenancy/tenancy.events.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { planTree, seedWorkspaces, shapeFor, stored, type PlannedWorkspace } from '../lib/events.js';
import { round, sleep } from '../lib/stats.js';
import { createTenant, createWorkspace } from '../lib/tenancy.js';
import type { BenchContext, Size } from '../lib/types.js';

export interface PermissionTenant {
  readonly tenantId: string;
  /** Every workspace but the root, parents before children. */
  readonly workspaces: readonly PlannedWorkspace[];
  /** Users with grants and groups (the check workload draws from them). */
  readonly users: readonly string[];
  /** Users whose only grant is viewer on one depth-1 workspace: ~1/10 of the tree each. */
  readonly lookupUsers: readonly string[];
  readonly counts: Readonly<Record<string, number>>;
  /** Position of the last seeded event. */
  readonly head: Position;
  readonly notes: readonly string[];
}

export interface SeedSize {
  readonly workspaces: number;
  readonly users: number;
  readonly groups: number;
  readonly grants: number;
  readonly lookupUsers: number;
}

export const SEED_SIZES: Readonly<Record<Size, SeedSize>> = {
  full: { workspaces: 100_000, users: 10_000, groups: 1_000, grants: 50_000, lookupUsers: 100 },
  quick: { workspaces: 5_000, users: 1_000, groups: 100, grants: 5_000, lookupUsers: 20 },
};
const DEPTH = 8;
const TOPS = 10;
const ROLES: readonly Role[] = ['viewer', 'editor', 'admin'];

/** Deterministic pseudo-random numbers (mulberry32): the same seed, the same tenant shape. */
export function randomSource(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The membership events of a tenant whose workspaces are already planned: members, groups (sizes
 * 10..500, most of them small), group memberships, then grants (a few tenant admins and viewers,
 * five grants per group, the rest user grants on random workspaces, one per user and workspace).
 */
export function planMembership(
  tenantId: string,
  workspaces: readonly PlannedWorkspace[],
  size: SeedSize,
  seed = 7,
): { events: TenancyEvent[]; users: string[]; lookupUsers: string[] } {
  const random = randomSource(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const users = Array.from({ length: size.users }, (_, index) => `user-${index}`);
  const lookupUsers = Array.from({ length: size.lookupUsers }, (_, index) => `lookup-${index}`);
  const events: TenancyEvent[] = [];
  for (const userId of [...users, ...lookupUsers])
    events.push({ type: 'MemberAdded', data: { tenantId, userId, displayName: null } });
  const groups = Array.from({ length: size.groups }, () => randomUUID());
  groups.forEach((groupId, index) =>
    events.push({ type: 'GroupCreated', data: { tenantId, groupId, name: `Group ${index}` } }),
  );
  for (const groupId of groups) {
    const members = Math.min(users.length, 10 + Math.floor(490 * random() ** 5));
    const chosen = new Set<string>();
    while (chosen.size < members) chosen.add(pick(users));
    for (const userId of chosen)
      events.push({ type: 'GroupMemberAdded', data: { tenantId, groupId, userId } });
  }
  const taken = new Set<string>();
  let grants = 0;
  const grant = (type: 'user' | 'group', id: string, role: Role, workspaceId: string | null) => {
    const key = `${type}:${id}@${workspaceId ?? 'tenant'}`;
    if (taken.has(key)) return;
    taken.add(key);
    grants += 1;
    events.push({
      type: 'RoleGranted',
      data: { tenantId, grantId: randomUUID(), principal: { type, id }, role, workspaceId },
    });
  };
  const tops = workspaces.filter((workspace) => workspace.depth === 1);
  lookupUsers.forEach((userId, index) =>
    grant('user', userId, 'viewer', tops[index % tops.length]!.workspaceId),
  );
  for (let index = 0; index < 20; index++) grant('user', users[index]!, 'admin', null);
  for (let index = 20; index < 120; index++) grant('user', users[index]!, 'viewer', null);
  for (const groupId of groups)
    for (let n = 0; n < 5; n++) grant('group', groupId, pick(ROLES), pick(workspaces).workspaceId);
  while (grants < size.grants) grant('user', pick(users), pick(ROLES), pick(workspaces).workspaceId);
  return { events, users, lookupUsers };
}

/** Appends events to the tenant's stream in batches, each under the stream's current revision. */
export async function appendInBatches(
  store: EventStore,
  tenantId: string,
  events: readonly TenancyEvent[],
  batch = 1_000,
): Promise<void> {
  const stream = tenantStreamName(tenantId);
  for (let start = 0; start < events.length; start += batch) {
    const slice = events.slice(start, start + batch).map((event) => stored(event));
    for (let attempt = 1; ; attempt++) {
      try {
        await store.appendToStream(stream, slice, (await store.streamRevision(stream)) ?? 'no_stream');
        break;
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= 20) throw error;
      }
    }
  }
}

/** The shared tenant, seeded on first use. */
export async function permissionTenant(ctx: BenchContext, size: Size): Promise<PermissionTenant> {
  const cached = ctx.shared.get('permissionTenant') as PermissionTenant | undefined;
  if (cached) return cached;
  const sizes = SEED_SIZES[size];
  const started = performance.now();
  const tenantId = await createTenant(ctx, `permissions-${ctx.runTag}`);
  await createWorkspace(ctx, tenantId, 'first');
  const workspaces = planTree(tenantId, shapeFor(sizes.workspaces - 2, DEPTH, TOPS), 'p');
  await seedWorkspaces(ctx.eventStore, tenantId, workspaces);
  const membership = planMembership(tenantId, workspaces, sizes);
  await appendInBatches(ctx.eventStore, tenantId, membership.events);
  const seconds = (performance.now() - started) / 1000;
  const count = (type: string) => membership.events.filter((event) => event.type === type).length;
  const counts = {
    workspaces: workspaces.length + 2,
    members: count('MemberAdded'),
    groups: count('GroupCreated'),
    groupMemberships: count('GroupMemberAdded'),
    grants: count('RoleGranted'),
  };
  const head = (await ctx.eventStore.headPosition())!;
  const notes = [
    `seeded tenant: ${counts.workspaces.toLocaleString('en')} workspaces ${DEPTH} deep, ${counts.members.toLocaleString('en')} members, ${counts.groups} groups (${counts.groupMemberships.toLocaleString('en')} memberships, 10 to 500 each), ${counts.grants.toLocaleString('en')} grants; ${round(seconds, 1)} s through the EventStore port`,
  ];
  // Let the projectors digest the seed so that they do not compete with the measurements.
  const caughtUp = await projectorsAt(ctx, head, size === 'quick' ? 60_000 : 300_000);
  notes.push(
    caughtUp.reached
      ? `read models caught up with the seed in ${round(caughtUp.ms / 1000, 1)} s before measuring`
      : `read models had not caught up with the seed after ${round(caughtUp.ms / 1000, 1)} s; measured anyway`,
  );
  const tenant: PermissionTenant = {
    tenantId,
    workspaces,
    users: membership.users,
    lookupUsers: membership.lookupUsers,
    counts,
    head,
    notes,
  };
  ctx.shared.set('permissionTenant', tenant);
  return tenant;
}

async function projectorsAt(
  ctx: BenchContext,
  position: Position,
  timeoutMs: number,
): Promise<{ reached: boolean; ms: number }> {
  const started = performance.now();
  for (;;) {
    const { rows } = await ctx.pool.query<{ position: string }>(
      'SELECT position FROM read_model.checkpoints',
    );
    const ms = performance.now() - started;
    if (rows.length > 0 && rows.every((row) => row.position >= position)) return { reached: true, ms };
    if (ms > timeoutMs) return { reached: false, ms };
    await sleep(250);
  }
}

import { describe, expect, it } from '@jest/globals';
import {
  fold,
  ROOT_ID,
  rootCreated,
  TENANT_ID,
  tenantCreated,
  tenantDeletionStarted,
  workspaceCreated,
  workspaceDeletionStarted,
  workspaceId,
} from './decider.test-kit.js';
import type { TenancyCommand } from './tenancy.commands.js';
import { decide, evolve } from './tenancy.decider.js';
import type { TenancyEvent, WorkspaceDeletionReason } from './tenancy.events.js';
import type { TenantState } from './tenant.state.js';

/** Deterministic pseudo-random numbers (mulberry32), so a failing tree can be reproduced. */
function randomSource(seed: number): (below: number) => number {
  let a = seed;
  return (below) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

/** A tree of `size` workspaces under the root, several levels deep: new nodes favour recent parents. */
function randomTree(size: number, seed: number): { events: TenancyEvent[]; parentOf: Map<string, string> } {
  const random = randomSource(seed);
  const ids: string[] = [ROOT_ID];
  const parentOf = new Map<string, string>();
  const events: TenancyEvent[] = [tenantCreated(), rootCreated()];
  for (let n = 1; n <= size; n += 1) {
    const recent = Math.max(0, ids.length - 8);
    const parent = random(3) === 0 ? ids[random(ids.length)]! : ids[recent + random(ids.length - recent)]!;
    const id = workspaceId(n);
    ids.push(id);
    parentOf.set(id, parent);
    events.push(workspaceCreated(id, parent, `w${n}`));
  }
  return { events, parentOf };
}

/** Plays the cascade process manager: ContinueDeletion until it returns nothing, folding each batch. */
function runCascade(state: TenantState, maxBatch: number): { batches: TenancyEvent[][]; state: TenantState } {
  const command: TenancyCommand = { type: 'ContinueDeletion', tenantId: TENANT_ID, maxBatch };
  const batches: TenancyEvent[][] = [];
  for (let calls = 0; ; calls += 1) {
    if (calls > 1_000_000) throw new Error('the cascade does not terminate');
    const batch = decide(command, state);
    if (batch.length === 0) return { batches, state };
    expect(batch.length).toBeLessThanOrEqual(maxBatch);
    batches.push(batch);
    state = batch.reduce(evolve, state);
  }
}

function descendantsOf(top: string, parentOf: ReadonlyMap<string, string>): Set<string> {
  const inSubtree = new Set([top]);
  // Ids were numbered in creation order, so a parent is always met before its children.
  for (const [child, parent] of parentOf) if (inSubtree.has(parent)) inSubtree.add(child);
  return inSubtree;
}

/** Every deletion comes strictly after the deletions of all the workspace's children; none twice. */
function expectChildrenFirst(
  deletions: readonly TenancyEvent[],
  parentOf: ReadonlyMap<string, string>,
  reason: WorkspaceDeletionReason,
): string[] {
  const deletedAt = new Map<string, number>();
  deletions.forEach((event, index) => {
    if (event.type !== 'WorkspaceDeleted') return;
    expect(event.data.reason).toBe(reason);
    expect(deletedAt.has(event.data.workspaceId)).toBe(false);
    deletedAt.set(event.data.workspaceId, index);
    if (event.data.workspaceId !== ROOT_ID) {
      expect(event.data.parentWorkspaceId).toBe(parentOf.get(event.data.workspaceId));
    }
  });
  for (const [child, parent] of parentOf) {
    const childAt = deletedAt.get(child);
    const parentAt = deletedAt.get(parent);
    if (parentAt !== undefined) {
      expect(childAt).toBeDefined();
      expect(childAt!).toBeLessThan(parentAt);
    }
  }
  return [...deletedAt.keys()];
}

describe('cascade deletion of a tenant', () => {
  const { events, parentOf } = randomTree(400, 7);

  it('builds a tree that is actually nested several levels deep', () => {
    const state = fold(events);
    const deepest = Math.max(...[...state.workspaces.values()].map((workspace) => workspace.depth));
    expect(deepest).toBeGreaterThanOrEqual(6);
  });

  it.each([1, 3, 7, 50, 1000])(
    'with batches of %i deletes every workspace children first, the root last and TenantDeleted at the very end',
    (maxBatch) => {
      const { batches, state } = runCascade(fold([...events, tenantDeletionStarted()]), maxBatch);
      const all = batches.flat();
      const deleted = expectChildrenFirst(all, parentOf, 'tenant-deleted');
      expect(deleted).toHaveLength(401);
      expect(all.at(-1)).toEqual({ type: 'TenantDeleted', data: { tenantId: TENANT_ID } });
      expect(all.at(-2)).toMatchObject({
        type: 'WorkspaceDeleted',
        data: { workspaceId: ROOT_ID, isRoot: true },
      });
      expect(all.filter((event) => event.type === 'TenantDeleted')).toHaveLength(1);
      expect(state.status).toBe('deleted');
      expect(state.liveWorkspaceCount).toBe(0);
    },
  );

  it('orders children first inside a single batch too', () => {
    const batch = decide(
      { type: 'ContinueDeletion', tenantId: TENANT_ID, maxBatch: 10_000 },
      fold([...events, tenantDeletionStarted()]),
    );
    expect(batch).toHaveLength(402);
    expectChildrenFirst(batch, parentOf, 'tenant-deleted');
  });

  it('is deterministic: the same history gives the same batches', () => {
    const first = runCascade(fold([...events, tenantDeletionStarted()]), 13).batches;
    const second = runCascade(fold([...events, tenantDeletionStarted()]), 13).batches;
    expect(second).toEqual(first);
  });
});

describe('cascade deletion of subtrees', () => {
  const { events, parentOf } = randomTree(300, 42);
  const state = fold(events);
  // Two subtrees of some size, the inner one's cascade started before the outer one's.
  const candidates = [...state.workspaces.values()]
    .filter((workspace) => workspace.depth >= 2 && state.liveChildren(workspace.workspaceId).size > 0)
    .map((workspace) => workspace.workspaceId);
  const outer = candidates[0]!;
  const inner = [...descendantsOf(outer, parentOf)].find(
    (id) => id !== outer && state.liveChildren(id).size > 0,
  );
  const separate = candidates.find(
    (id) => !descendantsOf(outer, parentOf).has(id) && !descendantsOf(id, parentOf).has(outer),
  )!;

  it.each([1, 4, 25])(
    'with batches of %i deletes exactly the cascading subtrees, children first',
    (maxBatch) => {
      const tops = [inner, outer, separate].filter((id): id is string => id !== undefined);
      const started = fold([...events, ...tops.map(workspaceDeletionStarted)]);
      const { batches, state: after } = runCascade(started, maxBatch);
      const deleted = expectChildrenFirst(batches.flat(), parentOf, 'cascade');

      const expected = new Set([...descendantsOf(outer, parentOf), ...descendantsOf(separate, parentOf)]);
      expect(new Set(deleted)).toEqual(expected);
      expect(after.liveWorkspaceCount).toBe(301 - expected.size);
      expect(after.deletionTops.size).toBe(0);
      expect(after.status).toBe('active');
    },
  );
});

describe('a tenant with 100,000 workspaces', () => {
  // Wide and deep at once: 1,000 branches of 99 descendants each, chained 9 levels deep.
  function largeTenant(): TenantState {
    const state = fold([tenantCreated(), rootCreated()]);
    let n = 0;
    for (let branch = 0; branch < 1000; branch += 1) {
      let parent = ROOT_ID;
      for (let child = 0; child < 100; child += 1) {
        n += 1;
        const id = workspaceId(n);
        evolve(state, workspaceCreated(id, parent, `w${n}`));
        if (child % 11 === 0) parent = id;
      }
    }
    return state;
  }

  /** decide may look workspaces up by id, never iterate over all of them. */
  function forbidFullScans(state: TenantState): void {
    const workspaces = state.workspaces as Map<string, unknown>;
    const refuse = (): never => {
      throw new Error('decide iterated over every workspace');
    };
    for (const method of ['forEach', 'keys', 'values', 'entries', Symbol.iterator] as const) {
      Object.defineProperty(workspaces, method, { value: refuse });
    }
  }

  const state = largeTenant();
  forbidFullScans(state);

  it('holds every workspace in its indexes', () => {
    expect(state.liveWorkspaceCount).toBe(100_001);
  });

  it('decides CreateWorkspace without scanning the workspaces', () => {
    const events = decide(
      {
        type: 'CreateWorkspace',
        tenantId: TENANT_ID,
        workspaceId: workspaceId(200_000),
        name: 'w1',
        parentWorkspaceId: workspaceId(50_001),
      },
      state,
    );
    expect(events).toHaveLength(1);
    expect(() =>
      decide(
        { type: 'CreateWorkspace', tenantId: TENANT_ID, workspaceId: workspaceId(200_000), name: 'W1' },
        state,
      ),
    ).toThrow(expect.objectContaining({ code: 'WORKSPACE_NAME_TAKEN' }));
  });

  it('decides a rename and a delete without scanning the workspaces', () => {
    expect(
      decide(
        { type: 'RenameWorkspace', tenantId: TENANT_ID, workspaceId: workspaceId(99_999), name: 'x' },
        state,
      ),
    ).toHaveLength(1);
    expect(
      decide(
        { type: 'DeleteWorkspace', tenantId: TENANT_ID, workspaceId: workspaceId(100_000), cascade: false },
        state,
      ),
    ).toHaveLength(1);
  });

  it('deletes the whole tenant in batches without scanning the workspaces', () => {
    evolve(state, tenantDeletionStarted());
    const { batches, state: after } = runCascade(state, 500);
    expect(batches.flat()).toHaveLength(100_002);
    expect(after.status).toBe('deleted');
  });
});

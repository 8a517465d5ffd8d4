import { describe, expect, it } from '@jest/globals';
import {
  fold,
  given,
  ROOT_ID,
  rootCreated,
  TENANT_ID,
  tenantCreated,
  tenantDeleted,
  tenantDeletionStarted,
  workspaceCreated,
  workspaceDeleted,
  workspaceDeletionStarted,
  workspaceId,
  workspaceMoved,
  workspaceRenamed,
} from './decider.test-kit.js';
import type { TenancyCommand } from './tenancy.commands.js';
import { decide, evolve, initialState } from './tenancy.decider.js';
import { findLiveWorkspace } from './tenant.state.js';

const T = TENANT_ID;
const A = workspaceId(0xa);
const B = workspaceId(0xb);
const C = workspaceId(0xc);
const D = workspaceId(0xd);
const UNKNOWN = workspaceId(0xdead);

const active = [tenantCreated(), rootCreated()];
/** root ─ A ─ B ; A ─ C */
const tree = [
  ...active,
  workspaceCreated(A, ROOT_ID, 'A'),
  workspaceCreated(B, A, 'B'),
  workspaceCreated(C, A, 'C'),
];

const createTenant = (name = 'Acme', tenantId = T): TenancyCommand => ({
  type: 'CreateTenant',
  tenantId,
  name,
});
const bootstrap: TenancyCommand = { type: 'BootstrapRootWorkspace', tenantId: T };
const createWorkspace = (id: string, name: string, parentWorkspaceId?: string): TenancyCommand =>
  parentWorkspaceId === undefined
    ? { type: 'CreateWorkspace', tenantId: T, workspaceId: id, name }
    : { type: 'CreateWorkspace', tenantId: T, workspaceId: id, name, parentWorkspaceId };
const renameWorkspace = (id: string, name: string): TenancyCommand => ({
  type: 'RenameWorkspace',
  tenantId: T,
  workspaceId: id,
  name,
});
const deleteWorkspace = (id: string, cascade = false): TenancyCommand => ({
  type: 'DeleteWorkspace',
  tenantId: T,
  workspaceId: id,
  cascade,
});
const deleteTenant: TenancyCommand = { type: 'DeleteTenant', tenantId: T };
const continueDeletion = (maxBatch: number): TenancyCommand => ({
  type: 'ContinueDeletion',
  tenantId: T,
  maxBatch,
});

describe('CreateTenant', () => {
  describe('when the tenant does not exist', () => {
    it('creates it with the trimmed display name', () => {
      given().when(createTenant('  Acme  ')).then(tenantCreated('Acme'));
    });

    it('refuses an invalid name', () => {
      given().when(createTenant('bad\nname')).thenFails('VALIDATION_FAILED');
      given().when(createTenant('   ')).thenFails('VALIDATION_FAILED');
    });

    it('refuses a tenantId that is not a lowercase UUID (it names the stream and the root id namespace)', () => {
      given().when(createTenant('Acme', 'tenant-1')).thenFails('VALIDATION_FAILED');
      given().when(createTenant('Acme', T.toUpperCase())).thenFails('VALIDATION_FAILED');
    });
  });

  describe('when the tenant is active', () => {
    it('stays quiet on a repeat with the same name, whatever its case', () => {
      given(...active)
        .when(createTenant('Acme'))
        .thenNothing();
      given(tenantCreated()).when(createTenant(' ACME ')).thenNothing();
    });

    it('refuses another name for the same tenantId', () => {
      given(...active)
        .when(createTenant('Globex'))
        .thenFails('TENANT_ALREADY_EXISTS');
    });
  });

  it('refuses a tenantId that is being or has been deleted: tenant ids are never reused', () => {
    given(...active, tenantDeletionStarted())
      .when(createTenant('Acme'))
      .thenFails('TENANT_ALREADY_EXISTS');
    given(tenantCreated(), tenantDeletionStarted(), tenantDeleted())
      .when(createTenant('Acme'))
      .thenFails('TENANT_ALREADY_EXISTS');
  });
});

describe('BootstrapRootWorkspace', () => {
  it('creates the root with its derived id once the tenant exists', () => {
    given(tenantCreated()).when(bootstrap).then(rootCreated());
  });

  it('refuses a tenant that does not exist', () => {
    given().when(bootstrap).thenFails('TENANT_NOT_FOUND');
  });

  it('stays quiet when the root exists, also when CreateWorkspace created it first', () => {
    given(...active)
      .when(bootstrap)
      .thenNothing();
    const created = decide(createWorkspace(A, 'Sales'), fold([tenantCreated()]));
    given(tenantCreated(), ...created)
      .when(bootstrap)
      .thenNothing();
  });

  it('stays quiet for a tenant being or already deleted', () => {
    given(tenantCreated(), tenantDeletionStarted()).when(bootstrap).thenNothing();
    given(tenantCreated(), tenantDeletionStarted(), tenantDeleted()).when(bootstrap).thenNothing();
  });
});

describe('CreateWorkspace', () => {
  describe('emits', () => {
    it('creates a workspace under the root when no parent is given', () => {
      given(...active)
        .when(createWorkspace(A, ' Sales '))
        .then(workspaceCreated(A, ROOT_ID, 'Sales'));
    });

    it('creates a workspace under a given parent', () => {
      given(...tree)
        .when(createWorkspace(D, 'Deep', B))
        .then(workspaceCreated(D, B, 'Deep'));
    });

    it('creates the root first when the asynchronous bootstrap has not happened yet', () => {
      given(tenantCreated())
        .when(createWorkspace(A, 'Sales'))
        .then(rootCreated(), workspaceCreated(A, ROOT_ID, 'Sales'));
      given(tenantCreated())
        .when(createWorkspace(A, 'Sales', ROOT_ID))
        .then(rootCreated(), workspaceCreated(A, ROOT_ID, 'Sales'));
    });

    it('allows the same name under different parents', () => {
      given(...tree)
        .when(createWorkspace(D, 'b', C))
        .then(workspaceCreated(D, C, 'b'));
    });

    it('frees a name when its sibling is deleted', () => {
      given(...tree, workspaceDeleted(C, A, 'requested'))
        .when(createWorkspace(D, 'C', A))
        .then(workspaceCreated(D, A, 'C'));
    });

    it('frees the old name of a renamed sibling', () => {
      given(...tree, workspaceRenamed(C, 'Renamed'))
        .when(createWorkspace(D, 'c', A))
        .then(workspaceCreated(D, A, 'c'));
    });
  });

  describe('refuses', () => {
    it('a tenant that does not exist or is deleted', () => {
      given().when(createWorkspace(A, 'Sales')).thenFails('TENANT_NOT_FOUND');
      given(
        ...active,
        tenantDeletionStarted(),
        workspaceDeleted(ROOT_ID, null, 'tenant-deleted', true),
        tenantDeleted(),
      )
        .when(createWorkspace(A, 'Sales'))
        .thenFails('TENANT_NOT_FOUND');
    });

    it('a tenant being deleted', () => {
      given(...active, tenantDeletionStarted())
        .when(createWorkspace(A, 'Sales'))
        .thenFails('TENANT_DELETING');
    });

    it('an invalid name or workspaceId', () => {
      given(...active)
        .when(createWorkspace(A, 'x'.repeat(201)))
        .thenFails('VALIDATION_FAILED');
      given(...active)
        .when(createWorkspace(A, ''))
        .thenFails('VALIDATION_FAILED');
      given(...active)
        .when(createWorkspace('ws-1', 'Sales'))
        .thenFails('VALIDATION_FAILED');
    });

    it('an unknown parent', () => {
      given(...active)
        .when(createWorkspace(A, 'Sales', UNKNOWN))
        .thenFails('WORKSPACE_NOT_FOUND');
      given(tenantCreated())
        .when(createWorkspace(A, 'Sales', UNKNOWN))
        .thenFails('WORKSPACE_NOT_FOUND');
    });

    it('a deleted parent', () => {
      given(...tree, workspaceDeleted(C, A, 'requested'))
        .when(createWorkspace(D, 'Sales', C))
        .thenFails('WORKSPACE_NOT_FOUND');
    });

    it('a parent being deleted', () => {
      given(...tree, workspaceDeletionStarted(A))
        .when(createWorkspace(D, 'Sales', A))
        .thenFails('WORKSPACE_DELETING');
    });

    it('a parent whose ancestor is being deleted', () => {
      given(...tree, workspaceDeletionStarted(A))
        .when(createWorkspace(D, 'Sales', B))
        .thenFails('WORKSPACE_DELETING');
    });

    it('a name a live sibling has, compared case-insensitively', () => {
      given(...tree)
        .when(createWorkspace(D, 'b', A))
        .thenFails('WORKSPACE_NAME_TAKEN');
      given(...tree)
        .when(createWorkspace(D, ' B ', A))
        .thenFails('WORKSPACE_NAME_TAKEN');
    });

    it('a name a sibling being deleted still holds', () => {
      given(...tree, workspaceDeletionStarted(B))
        .when(createWorkspace(D, 'B', A))
        .thenFails('WORKSPACE_NAME_TAKEN');
    });

    it('an existing workspaceId with another parent or name', () => {
      given(...tree)
        .when(createWorkspace(B, 'B', C))
        .thenFails('WORKSPACE_ID_TAKEN');
      given(...tree)
        .when(createWorkspace(B, 'Other', A))
        .thenFails('WORKSPACE_ID_TAKEN');
    });

    it('a deleted workspaceId: ids are never reused', () => {
      given(...tree, workspaceDeleted(C, A, 'requested'))
        .when(createWorkspace(C, 'C', A))
        .thenFails('WORKSPACE_ID_TAKEN');
    });

    it("the tenant's root id, before and after the root exists", () => {
      given(...active)
        .when(createWorkspace(ROOT_ID, 'Sales'))
        .thenFails('WORKSPACE_ID_TAKEN');
      given(tenantCreated()).when(createWorkspace(ROOT_ID, 'Sales')).thenFails('WORKSPACE_ID_TAKEN');
    });
  });

  describe('stays quiet', () => {
    it('on a repeat with the same id, parent and name key', () => {
      given(...tree)
        .when(createWorkspace(B, 'B', A))
        .thenNothing();
      given(...tree)
        .when(createWorkspace(B, 'b', A))
        .thenNothing();
      given(...tree)
        .when(createWorkspace(A, 'A'))
        .thenNothing();
    });
  });
});

describe('RenameWorkspace', () => {
  describe('emits', () => {
    it('renames a workspace', () => {
      given(...tree)
        .when(renameWorkspace(B, ' Beta '))
        .then(workspaceRenamed(B, 'Beta'));
    });

    it('allows a change of case only', () => {
      given(...tree)
        .when(renameWorkspace(B, 'b'))
        .then(workspaceRenamed(B, 'b'));
    });

    it('renames the root, which has no siblings', () => {
      given(...tree)
        .when(renameWorkspace(ROOT_ID, 'A'))
        .then(workspaceRenamed(ROOT_ID, 'A'));
    });

    it('allows a name used under another parent', () => {
      given(...tree)
        .when(renameWorkspace(B, 'A'))
        .then(workspaceRenamed(B, 'A'));
    });
  });

  describe('refuses', () => {
    it('a tenant that does not exist, is deleted or is being deleted', () => {
      given().when(renameWorkspace(A, 'x')).thenFails('TENANT_NOT_FOUND');
      given(tenantCreated(), tenantDeletionStarted(), tenantDeleted())
        .when(renameWorkspace(A, 'x'))
        .thenFails('TENANT_NOT_FOUND');
      given(...tree, tenantDeletionStarted())
        .when(renameWorkspace(A, 'x'))
        .thenFails('TENANT_DELETING');
    });

    it('an unknown or deleted workspace', () => {
      given(...tree)
        .when(renameWorkspace(UNKNOWN, 'x'))
        .thenFails('WORKSPACE_NOT_FOUND');
      given(...tree, workspaceDeleted(C, A, 'requested'))
        .when(renameWorkspace(C, 'x'))
        .thenFails('WORKSPACE_NOT_FOUND');
      given(tenantCreated()).when(renameWorkspace(ROOT_ID, 'x')).thenFails('WORKSPACE_NOT_FOUND');
    });

    it('a workspace being deleted, or inside a subtree being deleted', () => {
      given(...tree, workspaceDeletionStarted(A))
        .when(renameWorkspace(A, 'x'))
        .thenFails('WORKSPACE_DELETING');
      given(...tree, workspaceDeletionStarted(A))
        .when(renameWorkspace(B, 'x'))
        .thenFails('WORKSPACE_DELETING');
    });

    it('a name another live sibling has, compared case-insensitively', () => {
      given(...tree)
        .when(renameWorkspace(B, 'c'))
        .thenFails('WORKSPACE_NAME_TAKEN');
    });

    it('an invalid name', () => {
      given(...tree)
        .when(renameWorkspace(B, '\u0000'))
        .thenFails('VALIDATION_FAILED');
    });
  });

  describe('stays quiet', () => {
    it('when the display name is unchanged', () => {
      given(...tree)
        .when(renameWorkspace(B, 'B'))
        .thenNothing();
      given(...tree)
        .when(renameWorkspace(B, '  B '))
        .thenNothing();
    });
  });
});

describe('DeleteWorkspace', () => {
  describe('emits', () => {
    it('deletes a leaf at once when no cascade is asked', () => {
      given(...tree)
        .when(deleteWorkspace(B))
        .then(workspaceDeleted(B, A, 'requested'));
    });

    it('deletes a workspace whose children are all deleted', () => {
      given(...tree, workspaceDeleted(B, A, 'requested'), workspaceDeleted(C, A, 'requested'))
        .when(deleteWorkspace(A))
        .then(workspaceDeleted(A, ROOT_ID, 'requested'));
    });

    it('starts a cascade when asked, for a subtree or a leaf alike', () => {
      given(...tree)
        .when(deleteWorkspace(A, true))
        .then(workspaceDeletionStarted(A));
      given(...tree)
        .when(deleteWorkspace(B, true))
        .then(workspaceDeletionStarted(B));
    });

    it('starts a cascade around a subtree whose own cascade is under way', () => {
      given(...tree, workspaceDeletionStarted(B))
        .when(deleteWorkspace(A, true))
        .then(workspaceDeletionStarted(A));
    });
  });

  describe('refuses', () => {
    it('a tenant that does not exist, is deleted or is being deleted', () => {
      given().when(deleteWorkspace(A)).thenFails('TENANT_NOT_FOUND');
      given(tenantCreated(), tenantDeletionStarted(), tenantDeleted())
        .when(deleteWorkspace(A))
        .thenFails('TENANT_NOT_FOUND');
      given(...tree, tenantDeletionStarted())
        .when(deleteWorkspace(B))
        .thenFails('TENANT_DELETING');
    });

    it('an unknown workspace', () => {
      given(...tree)
        .when(deleteWorkspace(UNKNOWN))
        .thenFails('WORKSPACE_NOT_FOUND');
    });

    it('an already deleted workspace, as not found (the API answers 404)', () => {
      given(...tree, workspaceDeleted(B, A, 'requested'))
        .when(deleteWorkspace(B))
        .thenFails('WORKSPACE_NOT_FOUND');
      given(...tree, workspaceDeleted(B, A, 'requested'))
        .when(deleteWorkspace(B, true))
        .thenFails('WORKSPACE_NOT_FOUND');
    });

    it('the root workspace, with or without cascade', () => {
      given(...tree)
        .when(deleteWorkspace(ROOT_ID))
        .thenFails('ROOT_WORKSPACE_UNDELETABLE');
      given(...tree)
        .when(deleteWorkspace(ROOT_ID, true))
        .thenFails('ROOT_WORKSPACE_UNDELETABLE');
    });

    it('a workspace with live children when no cascade is asked', () => {
      given(...tree)
        .when(deleteWorkspace(A))
        .thenFails('WORKSPACE_HAS_CHILDREN');
      given(...tree, workspaceDeleted(B, A, 'requested'))
        .when(deleteWorkspace(A))
        .thenFails('WORKSPACE_HAS_CHILDREN');
    });
  });

  describe('stays quiet', () => {
    it('when the workspace is already being deleted', () => {
      given(...tree, workspaceDeletionStarted(A))
        .when(deleteWorkspace(A, true))
        .thenNothing();
      given(...tree, workspaceDeletionStarted(A))
        .when(deleteWorkspace(A))
        .thenNothing();
    });

    it('when an ancestor is being deleted: the cascade will take it', () => {
      given(...tree, workspaceDeletionStarted(A))
        .when(deleteWorkspace(B, true))
        .thenNothing();
      given(...tree, workspaceDeletionStarted(A))
        .when(deleteWorkspace(B))
        .thenNothing();
    });
  });
});

describe('DeleteTenant', () => {
  it('starts the deletion of an active tenant, bootstrapped or not', () => {
    given(...tree)
      .when(deleteTenant)
      .then(tenantDeletionStarted());
    given(tenantCreated()).when(deleteTenant).then(tenantDeletionStarted());
  });

  it('refuses a tenant that does not exist or is deleted', () => {
    given().when(deleteTenant).thenFails('TENANT_NOT_FOUND');
    given(tenantCreated(), tenantDeletionStarted(), tenantDeleted())
      .when(deleteTenant)
      .thenFails('TENANT_NOT_FOUND');
  });

  it('stays quiet while the deletion is under way', () => {
    given(...tree, tenantDeletionStarted())
      .when(deleteTenant)
      .thenNothing();
  });
});

describe('ContinueDeletion', () => {
  describe('emits', () => {
    it('deletes a cascading subtree children first, the top last', () => {
      given(...tree, workspaceDeletionStarted(A))
        .when(continueDeletion(10))
        .then(
          workspaceDeleted(B, A, 'cascade'),
          workspaceDeleted(C, A, 'cascade'),
          workspaceDeleted(A, ROOT_ID, 'cascade'),
        );
    });

    it('stops at maxBatch and resumes where it stopped', () => {
      const started = [...tree, workspaceDeletionStarted(A)];
      given(...started)
        .when(continueDeletion(2))
        .then(workspaceDeleted(B, A, 'cascade'), workspaceDeleted(C, A, 'cascade'));
      given(...started, workspaceDeleted(B, A, 'cascade'), workspaceDeleted(C, A, 'cascade'))
        .when(continueDeletion(2))
        .then(workspaceDeleted(A, ROOT_ID, 'cascade'));
    });

    it('finishes a leaf whose cascade was asked', () => {
      given(...tree, workspaceDeletionStarted(B))
        .when(continueDeletion(10))
        .then(workspaceDeleted(B, A, 'cascade'));
    });

    it('does not delete twice a cascade nested in another one', () => {
      given(...tree, workspaceDeletionStarted(B), workspaceDeletionStarted(A))
        .when(continueDeletion(10))
        .then(
          workspaceDeleted(B, A, 'cascade'),
          workspaceDeleted(C, A, 'cascade'),
          workspaceDeleted(A, ROOT_ID, 'cascade'),
        );
    });

    it('deletes every workspace of a deleting tenant, the root last, then the tenant', () => {
      given(...tree, tenantDeletionStarted())
        .when(continueDeletion(10))
        .then(
          workspaceDeleted(B, A, 'tenant-deleted'),
          workspaceDeleted(C, A, 'tenant-deleted'),
          workspaceDeleted(A, ROOT_ID, 'tenant-deleted'),
          workspaceDeleted(ROOT_ID, null, 'tenant-deleted', true),
          tenantDeleted(),
        );
    });

    it('takes subtrees already cascading along with the tenant, with the tenant reason', () => {
      given(...tree, workspaceDeletionStarted(B), tenantDeletionStarted())
        .when(continueDeletion(2))
        .then(workspaceDeleted(B, A, 'tenant-deleted'), workspaceDeleted(C, A, 'tenant-deleted'));
    });

    it('counts TenantDeleted in the batch: with no room left it comes in the next call', () => {
      const deleting = [...tree, tenantDeletionStarted()];
      const fourDeleted = [
        workspaceDeleted(B, A, 'tenant-deleted'),
        workspaceDeleted(C, A, 'tenant-deleted'),
        workspaceDeleted(A, ROOT_ID, 'tenant-deleted'),
        workspaceDeleted(ROOT_ID, null, 'tenant-deleted', true),
      ];
      given(...deleting)
        .when(continueDeletion(4))
        .then(...fourDeleted);
      given(...deleting, ...fourDeleted)
        .when(continueDeletion(4))
        .then(tenantDeleted());
    });

    it('deletes a tenant deleted before its root was bootstrapped', () => {
      given(tenantCreated(), tenantDeletionStarted()).when(continueDeletion(10)).then(tenantDeleted());
    });
  });

  describe('refuses', () => {
    it('a tenant that does not exist', () => {
      given().when(continueDeletion(10)).thenFails('TENANT_NOT_FOUND');
    });

    it('a batch size that is not a positive integer', () => {
      given(...tree)
        .when(continueDeletion(0))
        .thenFails('VALIDATION_FAILED');
      given(...tree)
        .when(continueDeletion(1.5))
        .thenFails('VALIDATION_FAILED');
      given(...tree)
        .when(continueDeletion(Number.NaN))
        .thenFails('VALIDATION_FAILED');
    });
  });

  describe('stays quiet', () => {
    it('when no cascade is under way', () => {
      given(...tree)
        .when(continueDeletion(10))
        .thenNothing();
    });

    it('when the tenant is already deleted', () => {
      given(tenantCreated(), tenantDeletionStarted(), tenantDeleted())
        .when(continueDeletion(10))
        .thenNothing();
    });
  });
});

describe('evolve', () => {
  it('applies events in place and returns the same state object (the previous state must not be reused)', () => {
    const state = initialState();
    expect(evolve(state, tenantCreated())).toBe(state);
    expect(state.status).toBe('active');
  });

  it('indexes the tree: depth, live children, counts, root id', () => {
    const state = fold(tree);
    expect(state.rootWorkspaceId).toBe(ROOT_ID);
    expect(state.liveWorkspaceCount).toBe(4);
    expect(state.workspaces.get(B)).toMatchObject({
      parentWorkspaceId: A,
      depth: 2,
      status: 'live',
      isRoot: false,
    });
    expect(state.workspaces.get(ROOT_ID)).toMatchObject({ parentWorkspaceId: null, depth: 0, isRoot: true });
    expect([...state.liveChildren(A)]).toEqual([B, C]);
    expect(state.liveChildNamed(A, 'b')).toBe(B);
  });

  it('keeps a deleted workspace (ids are never reused) but drops it from the live indexes', () => {
    const state = fold([...tree, workspaceDeleted(B, A, 'requested')]);
    expect(state.workspaces.get(B)?.status).toBe('deleted');
    expect(findLiveWorkspace(state, B)).toBeUndefined();
    expect([...state.liveChildren(A)]).toEqual([C]);
    expect(state.liveChildNamed(A, 'b')).toBeUndefined();
    expect(state.liveWorkspaceCount).toBe(3);
  });

  it("keeps a parent's children right as it goes from one child to several and back to none", () => {
    const chain = [...active, workspaceCreated(A, ROOT_ID, 'A'), workspaceCreated(B, A, 'B')];
    const children = (events: Parameters<typeof fold>[0], parent = A) => {
      const set = fold(events).liveChildren(parent);
      const seen: string[] = [];
      set.forEach((value) => seen.push(value));
      return { ids: [...set], size: set.size, viaForEach: seen, hasB: set.has(B), hasC: set.has(C) };
    };
    expect(children(chain)).toEqual({ ids: [B], size: 1, viaForEach: [B], hasB: true, hasC: false });
    const two = [...chain, workspaceCreated(C, A, 'C')];
    expect(children(two)).toEqual({ ids: [B, C], size: 2, viaForEach: [B, C], hasB: true, hasC: true });
    expect(children([...chain, workspaceDeleted(B, A, 'requested')]).ids).toEqual([]);
    expect(children([...two, workspaceDeleted(B, A, 'requested')]).ids).toEqual([C]);
    expect(
      children([...two, workspaceDeleted(B, A, 'requested'), workspaceDeleted(C, A, 'requested')]).size,
    ).toBe(0);
    // A deleted only child gives way to a new one; a move takes the only child along.
    expect(
      children([...chain, workspaceDeleted(B, A, 'requested'), workspaceCreated(C, A, 'C')]).ids,
    ).toEqual([C]);
    const moved = [...chain, workspaceCreated(D, ROOT_ID, 'D'), workspaceMoved(B, A, D)];
    expect(children(moved).ids).toEqual([]);
    expect(children(moved, D).ids).toEqual([B]);
    expect(fold(moved).liveChildNamed(D, 'b')).toBe(B);
    expect(fold(moved).liveChildNamed(A, 'b')).toBeUndefined();
  });

  it("finds a live child by name whether it is its parent's only child or one of several", () => {
    const chain = [...active, workspaceCreated(A, ROOT_ID, 'A'), workspaceCreated(B, A, 'B')];
    const named = (events: Parameters<typeof fold>[0]) => {
      const state = fold(events);
      return {
        b: state.liveChildNamed(A, 'b'),
        c: state.liveChildNamed(A, 'c'),
        x: state.liveChildNamed(A, 'x'),
      };
    };
    expect(named(chain)).toEqual({ b: B, c: undefined, x: undefined });
    expect(named([...chain, workspaceRenamed(B, 'X')])).toEqual({ b: undefined, c: undefined, x: B });
    const two = [...chain, workspaceCreated(C, A, 'C')];
    expect(named(two)).toEqual({ b: B, c: C, x: undefined });
    expect(named([...two, workspaceRenamed(B, 'X')])).toEqual({ b: undefined, c: C, x: B });
    expect(named([...two, workspaceDeleted(B, A, 'requested')])).toEqual({
      b: undefined,
      c: C,
      x: undefined,
    });
    // Renamed while it was the only child, then a sibling came: the map of names starts from its name.
    expect(named([...chain, workspaceRenamed(B, 'X'), workspaceCreated(C, A, 'C')])).toEqual({
      b: undefined,
      c: C,
      x: B,
    });
  });

  it('tracks cascade tops until they are deleted', () => {
    const state = fold([...tree, workspaceDeletionStarted(B), workspaceDeletionStarted(A)]);
    expect([...state.deletionTops]).toEqual([B, A]);
    expect(findLiveWorkspace(state, A)?.status).toBe('deleting');
    evolve(state, workspaceDeleted(B, A, 'cascade'));
    expect([...state.deletionTops]).toEqual([A]);
  });

  it('moves the name key on rename', () => {
    const state = fold([...tree, workspaceRenamed(B, 'Beta')]);
    expect(state.liveChildNamed(A, 'b')).toBeUndefined();
    expect(state.liveChildNamed(A, 'beta')).toBe(B);
    expect(state.workspaces.get(B)).toMatchObject({ name: 'Beta', nameKey: 'beta' });
  });

  it('tolerates events that do not fit the state instead of failing the fold', () => {
    const state = fold([
      ...tree,
      workspaceRenamed(UNKNOWN, 'x'),
      workspaceDeletionStarted(UNKNOWN),
      workspaceDeleted(UNKNOWN, A, 'requested'),
      workspaceCreated(D, UNKNOWN, 'orphan'),
      workspaceCreated(B, C, 'duplicate'),
      rootCreated(),
      workspaceDeleted(C, A, 'requested'),
      workspaceDeleted(C, A, 'requested'),
    ]);
    expect(state.liveWorkspaceCount).toBe(3);
    expect(state.workspaces.has(D)).toBe(false);
    expect(state.workspaces.get(B)?.parentWorkspaceId).toBe(A);
  });

  it('marks the tenant deleting, then deleted', () => {
    expect(fold([tenantCreated(), tenantDeletionStarted()]).status).toBe('deleting');
    expect(fold([tenantCreated(), tenantDeletionStarted(), tenantDeleted()]).status).toBe('deleted');
  });
});

describe('decide', () => {
  it('treats a command for another tenant than the folded one as a bug, not a rule violation', () => {
    const other = '9b7e6f4c-2d1a-4e8b-9c3f-5a6b7c8d9e0f';
    expect(() => decide({ type: 'DeleteTenant', tenantId: other }, fold(tree))).toThrow(
      /decided on the state of tenant/,
    );
  });
});

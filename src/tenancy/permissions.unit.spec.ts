import { describe, expect, it } from '@jest/globals';
import { apiKeyGrantIdOf } from './api-key-grants.js';
import {
  apiKey,
  apiKeyIssued,
  fold,
  group,
  groupCreated,
  groupId,
  groupMemberAdded,
  grantId,
  memberAdded,
  ROOT_ID,
  rootCreated,
  roleGranted,
  roleRevoked,
  tenantCreated,
  tenantDeletionStarted,
  user,
  workspaceCreated,
  workspaceDeleted,
  workspaceId,
} from './decider.test-kit.js';
import {
  accessAt,
  checkPermission,
  firstWorkspacesUnder,
  reachableTops,
  workspacesUnder,
} from './permissions.js';
import type { TenancyEvent } from './tenancy.events.js';

const A = workspaceId(0xa);
const A1 = workspaceId(0xa1);
const A11 = workspaceId(0xa11);
const B = workspaceId(0xb);
const G = groupId(1);
const KEY = '11111111-1111-4111-8111-111111111111';

/** root ─ A ─ A1 ─ A11 ; root ─ B. bob: viewer on the tenant, editor on A1 through G, admin on A11. */
const history = [
  tenantCreated(),
  rootCreated(),
  workspaceCreated(A, ROOT_ID, 'A'),
  workspaceCreated(A1, A, 'A1'),
  workspaceCreated(A11, A1, 'A11'),
  workspaceCreated(B, ROOT_ID, 'B'),
  memberAdded('bob'),
  groupCreated(G, 'Editors'),
  groupMemberAdded(G, 'bob'),
  roleGranted(grantId(1), user('bob'), 'viewer'),
  roleGranted(grantId(2), group(G), 'editor', A1),
  roleGranted(grantId(3), user('bob'), 'admin', A11),
];

describe('the permission check', () => {
  const state = fold(history);

  it('answers the strongest role found on the workspace or above, and where it comes from', () => {
    expect(checkPermission(state, user('bob'), 'workspace.write', B)).toEqual({
      allowed: false,
      role: 'viewer',
      via: { grantId: grantId(1), workspaceId: null },
    });
    expect(checkPermission(state, user('bob'), 'workspace.write', A11)).toEqual({
      allowed: true,
      role: 'admin',
      via: { grantId: grantId(3), workspaceId: A11 },
    });
    expect(checkPermission(state, user('bob'), 'workspace.write', A1)).toEqual({
      allowed: true,
      role: 'editor',
      via: { grantId: grantId(2), workspaceId: A1, group: G },
    });
  });

  it("prefers the nearest grant, then the principal's own over a group's, between equal roles", () => {
    const tied = fold([...history, roleGranted(grantId(4), user('bob'), 'editor', A)]);
    expect(checkPermission(tied, user('bob'), 'workspace.read', A1).via).toEqual({
      grantId: grantId(2),
      workspaceId: A1,
      group: G,
    });
    const same = fold([...history, roleGranted(grantId(4), user('bob'), 'editor', A1)]);
    expect(checkPermission(same, user('bob'), 'workspace.read', A1).via).toEqual({
      grantId: grantId(4),
      workspaceId: A1,
    });
  });

  it('gives keys.manage only to a tenant-wide admin', () => {
    expect(checkPermission(state, user('bob'), 'keys.manage', A11)).toMatchObject({ allowed: false });
    const tenantAdmin = fold([
      ...history,
      roleRevoked(grantId(1), user('bob'), 'viewer', null, 'replaced'),
      roleGranted(grantId(9), user('bob'), 'admin'),
    ]);
    expect(checkPermission(tenantAdmin, user('bob'), 'keys.manage', B)).toMatchObject({ allowed: true });
  });

  it("answers API keys from their issued role (admin = admin, reader = viewer on the key's scope)", () => {
    const keyed = fold([...history, apiKeyIssued(KEY, { role: 'reader', workspaceId: A })]);
    expect(checkPermission(keyed, apiKey(KEY), 'workspace.read', A11)).toEqual({
      allowed: true,
      role: 'viewer',
      via: { grantId: apiKeyGrantIdOf(KEY), workspaceId: A },
    });
    expect(checkPermission(keyed, apiKey(KEY), 'workspace.read', B)).toEqual({ allowed: false });
    expect(checkPermission(keyed, apiKey(KEY), 'workspace.write', A)).toMatchObject({ allowed: false });
  });

  it('denies unknown principals, refuses unknown or deleted workspaces, grants nothing in a deleting tenant', () => {
    expect(checkPermission(state, user('nobody'), 'workspace.read', A)).toEqual({ allowed: false });
    expect(() => checkPermission(state, user('bob'), 'workspace.read', workspaceId(0xdead))).toThrow(
      expect.objectContaining({ code: 'WORKSPACE_NOT_FOUND' }),
    );
    const deleted = fold([...history, workspaceDeleted(B, ROOT_ID, 'requested')]);
    expect(() => checkPermission(deleted, user('bob'), 'workspace.read', B)).toThrow(
      expect.objectContaining({ code: 'WORKSPACE_NOT_FOUND' }),
    );
    const closing = fold([...history, tenantDeletionStarted()]);
    expect(checkPermission(closing, user('bob'), 'workspace.read', A)).toEqual({ allowed: false });
    expect(() => checkPermission(fold([]), user('bob'), 'workspace.read', A)).toThrow(
      expect.objectContaining({ code: 'TENANT_NOT_FOUND' }),
    );
  });

  it('answers on the root before its bootstrap from the tenant-wide grants, and on nothing else', () => {
    const early = fold([tenantCreated(), memberAdded('bob'), roleGranted(grantId(1), user('bob'), 'editor')]);
    expect(checkPermission(early, user('bob'), 'workspace.write', ROOT_ID)).toEqual({
      allowed: true,
      role: 'editor',
      via: { grantId: grantId(1), workspaceId: null },
    });
    expect(checkPermission(early, user('bob'), 'workspace.delete', ROOT_ID)).toMatchObject({
      allowed: false,
    });
    expect(() => checkPermission(early, user('bob'), 'workspace.read', A)).toThrow(
      expect.objectContaining({ code: 'WORKSPACE_NOT_FOUND' }),
    );
  });
});

describe('reachable workspaces', () => {
  const state = fold(history);

  it('is every workspace for a tenant-wide grant, the covering subtrees otherwise', () => {
    expect(reachableTops(state, user('bob'), 'viewer')).toBe('all');
    expect(reachableTops(state, user('bob'), 'editor')).toEqual([A1]);
    expect(reachableTops(state, user('bob'), 'admin')).toEqual([A11]);
    expect(reachableTops(state, user('nobody'), 'viewer')).toEqual([]);
    expect(workspacesUnder(state, [A1]).map((workspace) => workspace.workspaceId)).toEqual([A1, A11]);
  });

  it('takes a first page in creation order without collecting the subtrees, the same as collecting them', () => {
    // Random trees with children created long after their siblings' subtrees, several tops at once.
    for (const seed of [1, 2, 3, 4, 5]) {
      let value = seed;
      const random = (below: number) => {
        value = (value * 1_103_515_245 + 12_345) % 2_147_483_648;
        return Math.floor((value / 2_147_483_648) * below);
      };
      const ids = [ROOT_ID];
      const events: TenancyEvent[] = [tenantCreated(), rootCreated()];
      for (let n = 1; n <= 400; n++) {
        const id = workspaceId(0x1000 + n);
        events.push(workspaceCreated(id, ids[random(ids.length)]!, `w${n}`));
        ids.push(id);
      }
      const tree = fold(events);
      const tops = reachableTopsOf(tree, [ids[3]!, ids[10]!, ids[50]!]);
      const all = workspacesUnder(tree, tops).map((workspace) => workspace.workspaceId);
      for (const count of [1, 7, 100, all.length, all.length + 5]) {
        expect(firstWorkspacesUnder(tree, tops, count).map((workspace) => workspace.workspaceId)).toEqual(
          all.slice(0, count),
        );
      }
    }
  });
});

/** The given workspaces without those inside another one of them, as reachableTops leaves them. */
function reachableTopsOf(state: ReturnType<typeof fold>, candidates: string[]): string[] {
  const inside = (id: string, top: string): boolean => {
    for (let current = state.workspaces.get(id)?.parentWorkspaceId ?? null; current !== null;) {
      if (current === top) return true;
      current = state.workspaces.get(current)?.parentWorkspaceId ?? null;
    }
    return false;
  };
  return candidates.filter((id) => !candidates.some((top) => top !== id && inside(id, top)));
}

describe('access at a workspace', () => {
  it('lists every principal with its strongest role here, direct or inherited, groups expanded', () => {
    const state = fold([...history, apiKeyIssued(KEY, { role: 'admin' })]);
    expect(accessAt(state, A11)).toEqual([
      {
        principal: user('bob'),
        role: 'admin',
        via: { grantId: grantId(3), workspaceId: A11 },
        inherited: false,
      },
      { principal: group(G), role: 'editor', via: { grantId: grantId(2), workspaceId: A1 }, inherited: true },
      {
        principal: apiKey(KEY),
        role: 'admin',
        via: { grantId: apiKeyGrantIdOf(KEY), workspaceId: null },
        inherited: true,
      },
    ]);
    expect(accessAt(state, B).map((entry) => [entry.principal.id, entry.role])).toEqual([
      ['bob', 'viewer'],
      [KEY, 'admin'],
    ]);
  });
});

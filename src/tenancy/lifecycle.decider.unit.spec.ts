import { describe, expect, it } from '@jest/globals';
import {
  apiKeyIssued,
  apiKeyRevoked,
  fold,
  given,
  grantId,
  groupCreated,
  groupId,
  memberAdded,
  roleGranted,
  roleRevoked,
  ROOT_ID,
  rootCreated,
  sealedName,
  SECRET_HASH,
  ISSUED_AT,
  TENANT_ID,
  tenantCreated,
  tenantDeleted,
  tenantDeletionStarted,
  tenantReactivated,
  tenantSuspended,
  user,
  workspaceCreated,
  workspaceDeletionStarted,
  workspaceId,
  workspaceMoved,
} from './decider.test-kit.js';
import type { TenancyCommand } from './tenancy.commands.js';
import { decide } from './tenancy.decider.js';
import type { TenancyEvent } from './tenancy.events.js';
import { checkPermission, firstWorkspacesUnder, scopesOf } from './permissions.js';
import { BUILT_IN_QUOTA_DEFAULTS, NO_QUOTA_OVERRIDES, type Quotas } from './quotas.js';
import { TenancyRuleViolation } from './tenancy.errors.js';

const T = TENANT_ID;
const [A, B, C, D, E] = [0xa, 0xb, 0xc, 0xd, 0xe].map(workspaceId) as [
  string,
  string,
  string,
  string,
  string,
];
const KEY = '11111111-1111-4111-8111-111111111111';

const active = [tenantCreated(), rootCreated()];
/** root ─ A ─ B ─ C ; root ─ D */
const tree = [
  ...active,
  workspaceCreated(A, ROOT_ID, 'A'),
  workspaceCreated(B, A, 'B'),
  workspaceCreated(C, B, 'C'),
  workspaceCreated(D, ROOT_ID, 'D'),
];

const move = (workspaceId: string, parentWorkspaceId: string): TenancyCommand => ({
  type: 'MoveWorkspace',
  tenantId: T,
  workspaceId,
  parentWorkspaceId,
});
const quotasSet = (quotas: Partial<Quotas>): TenancyEvent => ({
  type: 'TenantQuotasSet',
  data: { tenantId: T, quotas: { ...NO_QUOTA_OVERRIDES, ...quotas } },
});

/** Every command a client can send about an existing tenant, each valid on `tree` while active. */
const CLIENT_COMMANDS: readonly TenancyCommand[] = [
  { type: 'CreateWorkspace', tenantId: T, workspaceId: E, name: 'E' },
  { type: 'RenameWorkspace', tenantId: T, workspaceId: A, name: 'A2' },
  { type: 'DeleteWorkspace', tenantId: T, workspaceId: D, cascade: false },
  { type: 'DeleteWorkspace', tenantId: T, workspaceId: A, cascade: true },
  move(D, A),
  {
    type: 'IssueApiKey',
    tenantId: T,
    apiKeyId: KEY,
    role: 'reader',
    secretHash: SECRET_HASH,
    issuedAt: ISSUED_AT,
  },
  { type: 'RenameTenant', tenantId: T, name: 'Acme 2', nameReservation: 3 },
  { type: 'SetTenantQuotas', tenantId: T, quotas: { maxWorkspaces: 50 } },
  { type: 'AddMember', tenantId: T, userId: 'carol' },
  { type: 'RemoveMember', tenantId: T, userId: 'bob' },
  { type: 'CreateGroup', tenantId: T, groupId: groupId(9), name: 'Nine' },
  { type: 'RenameGroup', tenantId: T, groupId: groupId(1), name: 'One' },
  { type: 'DeleteGroup', tenantId: T, groupId: groupId(1) },
  { type: 'AddGroupMember', tenantId: T, groupId: groupId(1), userId: 'bob' },
  {
    type: 'GrantRole',
    tenantId: T,
    grantId: grantId(9),
    principal: user('bob'),
    role: 'viewer',
    workspaceId: A,
  },
  { type: 'RevokeRole', tenantId: T, grantId: grantId(2) },
];
const people = [
  memberAdded('alice'),
  roleGranted(grantId(1), user('alice'), 'admin'),
  memberAdded('bob', sealedName('Bob')),
  roleGranted(grantId(2), user('bob'), 'editor', A),
  groupCreated(groupId(1), 'Ops'),
];

describe('SuspendTenant and ReactivateTenant', () => {
  it('suspends an active tenant with its reason, and stays quiet when already suspended', () => {
    given(...active)
      .when({ type: 'SuspendTenant', tenantId: T, reason: '  unpaid invoices ' })
      .then(tenantSuspended('unpaid invoices'));
    given(...active, tenantSuspended())
      .when({ type: 'SuspendTenant', tenantId: T, reason: 'again' })
      .thenNothing();
  });

  it('refuses a reason that is empty, too long, not one line, or hides or reorders what it shows', () => {
    for (const reason of ['', '   ', 'a\nb', 'x'.repeat(501), 'unpaid\u202e', 'un\u200bpaid'])
      given(...active)
        .when({ type: 'SuspendTenant', tenantId: T, reason })
        .thenFails('VALIDATION_FAILED');
  });

  it('reactivates a suspended tenant and stays quiet for an active one', () => {
    given(...active, tenantSuspended())
      .when({ type: 'ReactivateTenant', tenantId: T })
      .then(tenantReactivated());
    given(...active)
      .when({ type: 'ReactivateTenant', tenantId: T })
      .thenNothing();
  });

  it('refuses both for a missing, deleting or deleted tenant', () => {
    for (const command of [
      { type: 'SuspendTenant', tenantId: T, reason: 'x' },
      { type: 'ReactivateTenant', tenantId: T },
    ] as const) {
      given().when(command).thenFails('TENANT_NOT_FOUND');
      given(...active, tenantDeletionStarted())
        .when(command)
        .thenFails('TENANT_DELETING');
      given(...active, tenantDeletionStarted(), tenantDeleted())
        .when(command)
        .thenFails('TENANT_NOT_FOUND');
    }
  });

  it.each(CLIENT_COMMANDS.map((command) => [command.type, command] as const))(
    'while suspended, %s is refused with TENANT_SUSPENDED (and accepted once reactivated)',
    (_type, command) => {
      const history = [...tree, ...people];
      expect(decide(command, fold(history)).length).toBeGreaterThan(0);
      given(...history, tenantSuspended())
        .when(command)
        .thenFails('TENANT_SUSPENDED');
      expect(
        decide(command, fold([...history, tenantSuspended(), tenantReactivated()])).length,
      ).toBeGreaterThan(0);
    },
  );

  it('a suspended tenant can still be deleted, finishes a cascade it accepted, and erases personal data', () => {
    given(...tree, tenantSuspended())
      .when({ type: 'DeleteTenant', tenantId: T })
      .then(tenantDeletionStarted());
    const cascading = [...tree, workspaceDeletionStarted(B), tenantSuspended()];
    expect(decide({ type: 'ContinueDeletion', tenantId: T, maxBatch: 10 }, fold(cascading))).toHaveLength(2);
    given(...tree, ...people, tenantSuspended())
      .when({ type: 'ErasePersonalData', tenantId: T, userId: 'bob' })
      .then({ type: 'PersonalDataErased', data: { tenantId: T, userId: 'bob' } });
  });

  it('a suspended tenant can still have an API key taken away, with the grants the key held', () => {
    const key = workspaceId(0x77);
    given(
      ...tree,
      apiKeyIssued(key),
      roleGranted(grantId(7), { type: 'apiKey', id: key }, 'viewer', A),
      tenantSuspended(),
    )
      .when({ type: 'RevokeApiKey', tenantId: T, apiKeyId: key })
      .then(
        roleRevoked(grantId(7), { type: 'apiKey', id: key }, 'viewer', A, 'api-key-revoked'),
        apiKeyRevoked(key),
      );
  });

  it('checks deny everything with the reason while suspended, and grants count again after', () => {
    const history = [...tree, ...people];
    const check = (events: TenancyEvent[]) =>
      checkPermission(fold(events), user('alice'), 'workspace.write', C);
    expect(check(history)).toMatchObject({ allowed: true });
    expect(check([...history, tenantSuspended()])).toEqual({ allowed: false, reason: 'tenant_suspended' });
    expect(check([...history, tenantSuspended(), tenantReactivated()])).toMatchObject({ allowed: true });
  });
});

describe('RenameTenant', () => {
  it('renames with the reservation that backs the new name, naming the one to release', () => {
    given({ type: 'TenantCreated', data: { tenantId: T, name: 'Acme', nameReservation: 0 } }, rootCreated())
      .when({ type: 'RenameTenant', tenantId: T, name: ' Acme Corp ', nameReservation: 2 })
      .then({
        type: 'TenantRenamed',
        data: {
          tenantId: T,
          name: 'Acme Corp',
          previousName: 'Acme',
          nameReservation: 2,
          previousNameReservation: 0,
        },
      });
  });

  it('stays quiet for the same name; a change of case keeps the reservation; another name needs one', () => {
    given(...active)
      .when({ type: 'RenameTenant', tenantId: T, name: 'Acme', nameReservation: 1 })
      .thenNothing();
    given(...active)
      .when({ type: 'RenameTenant', tenantId: T, name: 'ACME' })
      .then({
        type: 'TenantRenamed',
        data: {
          tenantId: T,
          name: 'ACME',
          previousName: 'Acme',
          nameReservation: null,
          previousNameReservation: null,
        },
      });
    given(...active)
      .when({ type: 'RenameTenant', tenantId: T, name: 'Other' })
      .thenFails('VALIDATION_FAILED');
    given(...active)
      .when({ type: 'RenameTenant', tenantId: T, name: 'a\nb', nameReservation: 1 })
      .thenFails('VALIDATION_FAILED');
  });

  it('folds the new name in', () => {
    const state = fold([
      ...active,
      {
        type: 'TenantRenamed',
        data: {
          tenantId: T,
          name: 'Beta',
          previousName: 'Acme',
          nameReservation: 4,
          previousNameReservation: null,
        },
      },
    ]);
    expect([state.name, state.nameKey, state.nameReservation]).toEqual(['Beta', 'beta', 4]);
  });
});

describe('quotas', () => {
  it('sets a tenant’s own quotas, absent and null meaning the default, and stays quiet when unchanged', () => {
    given(...active)
      .when({ type: 'SetTenantQuotas', tenantId: T, quotas: { maxWorkspaces: 10, maxGroups: null } })
      .then(quotasSet({ maxWorkspaces: 10 }));
    given(...active, quotasSet({ maxWorkspaces: 10 }))
      .when({ type: 'SetTenantQuotas', tenantId: T, quotas: { maxWorkspaces: 10 } })
      .thenNothing();
    for (const bad of [{ maxDepth: -1 }, { maxMembers: 1.5 }, { maxApiKeys: 101 }, { maxGroups: '3' }])
      given(...active)
        .when({ type: 'SetTenantQuotas', tenantId: T, quotas: bad as never })
        .thenFails('VALIDATION_FAILED');
  });

  const refusal = (command: TenancyCommand, history: TenancyEvent[], defaults = BUILT_IN_QUOTA_DEFAULTS) => {
    try {
      decide(command, fold(history), defaults);
    } catch (error) {
      if (error instanceof TenancyRuleViolation) return { code: error.code, ...error.details };
      throw error;
    }
    return 'accepted';
  };

  it('refuses each item beyond its quota, with the limit and the count; the one before the limit passes', () => {
    const create = (id: string, parent?: string): TenancyCommand => ({
      type: 'CreateWorkspace',
      tenantId: T,
      workspaceId: id,
      name: id,
      ...(parent === undefined ? {} : { parentWorkspaceId: parent }),
    });
    // tree: root, A, B, C, D = 5 workspaces; C is at depth 3.
    expect(refusal(create(E), [...tree, quotasSet({ maxWorkspaces: 6 })])).toBe('accepted');
    expect(refusal(create(E), [...tree, quotasSet({ maxWorkspaces: 5 })])).toEqual({
      code: 'QUOTA_EXCEEDED',
      quota: 'maxWorkspaces',
      limit: 5,
      current: 5,
    });
    expect(refusal(create(E, C), [...tree, quotasSet({ maxDepth: 4 })])).toBe('accepted');
    expect(refusal(create(E, C), [...tree, quotasSet({ maxDepth: 3 })])).toEqual({
      code: 'QUOTA_EXCEEDED',
      quota: 'maxDepth',
      limit: 3,
      current: 4,
    });
    const withPeople = [...tree, ...people];
    expect(
      refusal({ type: 'AddMember', tenantId: T, userId: 'carol' }, [
        ...withPeople,
        quotasSet({ maxMembers: 2 }),
      ]),
    ).toEqual({ code: 'QUOTA_EXCEEDED', quota: 'maxMembers', limit: 2, current: 2 });
    expect(
      refusal({ type: 'CreateGroup', tenantId: T, groupId: groupId(2), name: 'Two' }, [
        ...withPeople,
        quotasSet({ maxGroups: 1 }),
      ]),
    ).toEqual({ code: 'QUOTA_EXCEEDED', quota: 'maxGroups', limit: 1, current: 1 });
    const issue: TenancyCommand = {
      type: 'IssueApiKey',
      tenantId: T,
      apiKeyId: KEY,
      role: 'reader',
      secretHash: SECRET_HASH,
      issuedAt: ISSUED_AT,
    };
    expect(refusal(issue, [...tree, apiKeyIssued(workspaceId(0x99)), quotasSet({ maxApiKeys: 1 })])).toEqual({
      code: 'QUOTA_EXCEEDED',
      quota: 'maxApiKeys',
      limit: 1,
      current: 1,
    });
  });

  it('takes the configured defaults when the tenant sets none, and its own over them', () => {
    const defaults = { ...BUILT_IN_QUOTA_DEFAULTS, maxMembers: 1 };
    const add: TenancyCommand = { type: 'AddMember', tenantId: T, userId: 'carol' };
    expect(refusal(add, [...tree, memberAdded('alice')], defaults)).toMatchObject({ limit: 1, current: 1 });
    expect(refusal(add, [...tree, memberAdded('alice'), quotasSet({ maxMembers: 2 })], defaults)).toBe(
      'accepted',
    );
  });

  it('lowering a quota below the current use refuses new items only', () => {
    const lowered = [...tree, ...people, quotasSet({ maxWorkspaces: 1, maxMembers: 0 })];
    expect(refusal({ type: 'RenameWorkspace', tenantId: T, workspaceId: A, name: 'A2' }, lowered)).toBe(
      'accepted',
    );
    expect(
      refusal({ type: 'AddMember', tenantId: T, userId: 'bob', displayName: sealedName('B') }, lowered),
    ).toBe('accepted');
    expect(refusal({ type: 'DeleteWorkspace', tenantId: T, workspaceId: C, cascade: false }, lowered)).toBe(
      'accepted',
    );
    expect(refusal(move(D, A), lowered)).toBe('accepted');
  });
});

describe('MoveWorkspace', () => {
  it('moves a workspace with its subtree in one event, and stays quiet when it is already there', () => {
    given(...tree)
      .when(move(B, D))
      .then(workspaceMoved(B, A, D));
    given(...tree)
      .when(move(B, A))
      .thenNothing();
  });

  it('refuses a move into its own subtree, of the root, onto a taken name, in or into a deletion', () => {
    given(...tree)
      .when(move(A, C))
      .thenFails('WORKSPACE_MOVE_CYCLE');
    given(...tree)
      .when(move(A, A))
      .thenFails('WORKSPACE_MOVE_CYCLE');
    given(...tree)
      .when(move(ROOT_ID, D))
      .thenFails('ROOT_WORKSPACE_IMMOVABLE');
    given(...tree, workspaceCreated(E, D, 'b'))
      .when(move(B, D))
      .thenFails('WORKSPACE_NAME_TAKEN');
    given(...tree, workspaceDeletionStarted(A))
      .when(move(C, D))
      .thenFails('WORKSPACE_DELETING');
    given(...tree, workspaceDeletionStarted(D))
      .when(move(C, D))
      .thenFails('WORKSPACE_DELETING');
    given(...tree)
      .when(move(E, D))
      .thenFails('WORKSPACE_NOT_FOUND');
    given(...tree)
      .when(move(C, E))
      .thenFails('WORKSPACE_NOT_FOUND');
  });

  it('refuses a move that would put the subtree’s deepest workspace beyond maxDepth; moving up always passes', () => {
    // B's subtree (B at 2, C at 3) under E (at 2): B at 3, C at 4.
    const deeper = [...tree, workspaceCreated(E, D, 'E')];
    given(...deeper, quotasSet({ maxDepth: 3 }))
      .when(move(B, E))
      .thenFails('QUOTA_EXCEEDED');
    given(...deeper, quotasSet({ maxDepth: 4 }))
      .when(move(B, E))
      .then(workspaceMoved(B, A, E));
    given(...tree, quotasSet({ maxDepth: 0 }))
      .when(move(C, ROOT_ID))
      .then(workspaceMoved(C, B, ROOT_ID));
  });

  it('folds the move in: parent, children, depths of the whole subtree, and checks follow the new ancestors', () => {
    const history = [
      ...tree,
      ...people,
      memberAdded('dora'),
      roleGranted(grantId(7), user('dora'), 'admin', D),
      workspaceMoved(B, A, D),
    ];
    const state = fold(history);
    expect(state.workspaces.get(B)).toMatchObject({ parentWorkspaceId: D, depth: 2 });
    expect(state.workspaces.get(C)).toMatchObject({ parentWorkspaceId: B, depth: 3 });
    expect([...state.liveChildren(A)]).toEqual([]);
    expect([...state.liveChildren(D)]).toEqual([B]);
    expect(scopesOf(state, C)).toEqual([C, B, D, ROOT_ID, 'tenant']);
    // bob's editor grant on A no longer reaches C; dora's admin grant on D now does.
    expect(checkPermission(state, user('bob'), 'workspace.read', C)).toEqual({ allowed: false });
    expect(checkPermission(state, user('dora'), 'workspace.delete', C)).toMatchObject({
      allowed: true,
      via: { grantId: grantId(7), workspaceId: D },
    });
    // A sibling name that was B's is free again under A.
    given(...history)
      .when({ type: 'CreateWorkspace', tenantId: T, workspaceId: E, parentWorkspaceId: A, name: 'B' })
      .then(workspaceCreated(E, A, 'B'));
  });

  it('lists reachable workspaces in creation order after a move under a younger parent', () => {
    const state = fold([...tree, workspaceMoved(A, ROOT_ID, D)]);
    expect(state.parentsPrecedeChildren).toBe(false);
    expect(firstWorkspacesUnder(state, [ROOT_ID], 10).map((w) => w.workspaceId)).toEqual([
      ROOT_ID,
      A,
      B,
      C,
      D,
    ]);
  });

  it('ignores a move the state cannot take (a loop, an unknown workspace) instead of failing the fold', () => {
    const state = fold([...tree, workspaceMoved(A, ROOT_ID, C), workspaceMoved(E, ROOT_ID, D)]);
    expect(state.workspaces.get(A)).toMatchObject({ parentWorkspaceId: ROOT_ID, depth: 1 });
  });
});

describe('ErasePersonalData', () => {
  it('erases a person once: a member, a former member, and after the tenant is gone', () => {
    given(...tree, ...people)
      .when({ type: 'ErasePersonalData', tenantId: T, userId: 'bob' })
      .then({ type: 'PersonalDataErased', data: { tenantId: T, userId: 'bob' } });
    given(...tree, ...people, { type: 'PersonalDataErased', data: { tenantId: T, userId: 'bob' } })
      .when({ type: 'ErasePersonalData', tenantId: T, userId: 'bob' })
      .thenNothing();
    given(...tree, ...people, tenantDeletionStarted(), tenantDeleted())
      .when({ type: 'ErasePersonalData', tenantId: T, userId: 'bob' })
      .then({ type: 'PersonalDataErased', data: { tenantId: T, userId: 'bob' } });
  });

  it('refuses someone who never was a member, and a tenant that never existed', () => {
    given(...tree)
      .when({ type: 'ErasePersonalData', tenantId: T, userId: 'zed' })
      .thenFails('MEMBER_NOT_FOUND');
    given().when({ type: 'ErasePersonalData', tenantId: T, userId: 'zed' }).thenFails('TENANT_NOT_FOUND');
  });

  it('leaves the member without a display name; a name given afterwards is held again', () => {
    const erased = [
      ...tree,
      ...people,
      { type: 'PersonalDataErased', data: { tenantId: T, userId: 'bob' } } as const,
    ];
    expect(fold(erased).membership.members.get('bob')).toEqual({ userId: 'bob', displayName: null });
    given(...erased)
      .when({ type: 'AddMember', tenantId: T, userId: 'bob', displayName: sealedName('Bob') })
      .then({ type: 'MemberUpdated', data: { tenantId: T, userId: 'bob', displayName: sealedName('Bob') } });
    given(...erased, {
      type: 'MemberUpdated',
      data: { tenantId: T, userId: 'bob', displayName: sealedName('Bob') },
    })
      .when({ type: 'ErasePersonalData', tenantId: T, userId: 'bob' })
      .then({ type: 'PersonalDataErased', data: { tenantId: T, userId: 'bob' } });
  });
});

import { describe, expect, it } from '@jest/globals';
import { apiKeyGrantIdOf, initialAdminGrantIdOf } from './api-key-grants.js';
import {
  apiKey,
  apiKeyIssued,
  apiKeyRevoked,
  fold,
  given,
  group,
  groupCreated,
  groupDeleted,
  groupId,
  groupMemberAdded,
  groupMemberRemoved,
  grantId,
  memberAdded,
  memberRemoved,
  ROOT_ID,
  rootCreated,
  roleGranted,
  roleRevoked,
  sealedName,
  TENANT_ID,
  tenantCreated,
  tenantDeleted,
  tenantDeletionStarted,
  user,
  workspaceCreated,
  workspaceDeleted,
  workspaceDeletionStarted,
  workspaceId,
} from './decider.test-kit.js';
import type { TenancyCommand } from './tenancy.commands.js';
import { decide, evolve } from './tenancy.decider.js';
import type { PrincipalRef, Role } from './membership.events.js';
import type { PersonalText } from './personal-text.js';

const T = TENANT_ID;
const A = workspaceId(0xa);
const B = workspaceId(0xb);
const G = groupId(1);
const H = groupId(2);
const KEY = '11111111-1111-4111-8111-111111111111';

const active = [tenantCreated(), rootCreated()];
/** root ─ A ─ B; alice is the tenant admin, bob a member; group G holds bob. */
const team = [
  ...active,
  workspaceCreated(A, ROOT_ID, 'A'),
  workspaceCreated(B, A, 'B'),
  memberAdded('alice'),
  roleGranted(grantId(1), user('alice'), 'admin'),
  memberAdded('bob'),
  groupCreated(G, 'Ops'),
  groupMemberAdded(G, 'bob'),
];

const addMember = (userId: string, displayName?: PersonalText | null): TenancyCommand =>
  displayName === undefined
    ? { type: 'AddMember', tenantId: T, userId }
    : { type: 'AddMember', tenantId: T, userId, displayName };
const removeMember = (userId: string): TenancyCommand => ({ type: 'RemoveMember', tenantId: T, userId });
const createGroup = (id: string, name: string): TenancyCommand => ({
  type: 'CreateGroup',
  tenantId: T,
  groupId: id,
  name,
});
const renameGroup = (id: string, name: string): TenancyCommand => ({
  type: 'RenameGroup',
  tenantId: T,
  groupId: id,
  name,
});
const deleteGroup = (id: string): TenancyCommand => ({ type: 'DeleteGroup', tenantId: T, groupId: id });
const addToGroup = (id: string, userId: string): TenancyCommand => ({
  type: 'AddGroupMember',
  tenantId: T,
  groupId: id,
  userId,
});
const removeFromGroup = (id: string, userId: string): TenancyCommand => ({
  type: 'RemoveGroupMember',
  tenantId: T,
  groupId: id,
  userId,
});
const grant = (
  id: string,
  principal: PrincipalRef,
  role: Role,
  workspace: string | null = null,
): TenancyCommand => ({
  type: 'GrantRole',
  tenantId: T,
  grantId: id,
  principal,
  role,
  workspaceId: workspace,
});
const revoke = (id: string): TenancyCommand => ({ type: 'RevokeRole', tenantId: T, grantId: id });

describe('CreateTenant with an admin user', () => {
  it('starts the tenant with that user as a member holding a tenant-wide admin grant', () => {
    given()
      .when({ type: 'CreateTenant', tenantId: T, name: 'Acme', adminUserId: 'auth0|alice' })
      .then(
        tenantCreated('Acme'),
        memberAdded('auth0|alice'),
        roleGranted(initialAdminGrantIdOf(T), user('auth0|alice'), 'admin'),
      );
  });

  it('does nothing when repeated, and refuses an admin id that is not a user id', () => {
    const createdWithAlice = [
      tenantCreated('Acme'),
      memberAdded('alice'),
      roleGranted(initialAdminGrantIdOf(T), user('alice'), 'admin'),
    ];
    given(...createdWithAlice)
      .when({ type: 'CreateTenant', tenantId: T, name: 'Acme', adminUserId: 'alice' })
      .thenNothing();
    // Still the same create once alice's grant and membership have ended.
    given(
      ...createdWithAlice,
      roleRevoked(initialAdminGrantIdOf(T), user('alice'), 'admin', null, 'requested'),
      memberRemoved('alice'),
    )
      .when({ type: 'CreateTenant', tenantId: T, name: 'Acme', adminUserId: 'alice' })
      .thenNothing();
    given()
      .when({ type: 'CreateTenant', tenantId: T, name: 'Acme', adminUserId: 'alice smith' })
      .thenFails('VALIDATION_FAILED');
  });

  it('is not a repeat when it asks for another admin than the first create, or none, or one where there was none', () => {
    const createdWithAlice = [
      tenantCreated('Acme'),
      memberAdded('alice'),
      roleGranted(initialAdminGrantIdOf(T), user('alice'), 'admin'),
    ];
    given(...createdWithAlice)
      .when({ type: 'CreateTenant', tenantId: T, name: 'Acme', adminUserId: 'bob' })
      .thenFails('TENANT_ALREADY_EXISTS');
    given(...createdWithAlice)
      .when({ type: 'CreateTenant', tenantId: T, name: 'Acme' })
      .thenFails('TENANT_ALREADY_EXISTS');
    given(...active)
      .when({ type: 'CreateTenant', tenantId: T, name: 'Acme', adminUserId: 'alice' })
      .thenFails('TENANT_ALREADY_EXISTS');
    // A later admin grant of alice is not the creation's.
    given(...active, memberAdded('alice'), roleGranted(grantId(9), user('alice'), 'admin'))
      .when({ type: 'CreateTenant', tenantId: T, name: 'Acme', adminUserId: 'alice' })
      .thenFails('TENANT_ALREADY_EXISTS');
  });
});

describe('AddMember', () => {
  it('adds a user with a sealed display name, and refuses one the application did not seal', () => {
    given(...active)
      .when(addMember('bob', sealedName('Bob')))
      .then(memberAdded('bob', sealedName('Bob')));
    for (const unsealed of [
      { text: 'Bob' },
      { sealed: 'Bob' },
      { sealed: sealedName('Bob').sealed, text: 'Bob' },
    ])
      given(...active)
        .when(addMember('bob', unsealed))
        .thenFails('VALIDATION_FAILED');
  });

  it('changes the display name of a member, and stays quiet when nothing changes', () => {
    given(...team)
      .when(addMember('bob', sealedName('Robert')))
      .then({
        type: 'MemberUpdated',
        data: { tenantId: T, userId: 'bob', displayName: sealedName('Robert') },
      });
    given(...team)
      .when(addMember('bob'))
      .thenNothing();
    given(...team)
      .when(addMember('bob', null))
      .thenNothing();
  });

  it('refuses user ids outside 1..255 characters of the allowed set', () => {
    for (const bad of ['', 'a b', 'x'.repeat(256), 'é', 'a/b'])
      given(...active)
        .when(addMember(bad))
        .thenFails('VALIDATION_FAILED');
    given(...active)
      .when(addMember('x'.repeat(255)))
      .then(memberAdded('x'.repeat(255)));
  });

  it('refuses a tenant that does not exist or is being deleted', () => {
    given().when(addMember('bob')).thenFails('TENANT_NOT_FOUND');
    given(...active, tenantDeletionStarted())
      .when(addMember('bob'))
      .thenFails('TENANT_DELETING');
  });
});

describe('RemoveMember', () => {
  it('takes the member out of its groups and revokes its grants before removing it', () => {
    given(...team, roleGranted(grantId(2), user('bob'), 'editor', A))
      .when(removeMember('bob'))
      .then(
        groupMemberRemoved(G, 'bob', 'member-removed'),
        roleRevoked(grantId(2), user('bob'), 'editor', A, 'member-removed'),
        memberRemoved('bob'),
      );
  });

  it('refuses a user who is not a member', () => {
    given(...team)
      .when(removeMember('carol'))
      .thenFails('MEMBER_NOT_FOUND');
    given(...team, memberRemoved('bob'))
      .when(removeMember('bob'))
      .thenFails('MEMBER_NOT_FOUND');
  });

  it('refuses to remove the last admin user, and allows it once another user is an admin', () => {
    given(...team)
      .when(removeMember('alice'))
      .thenFails('LAST_ADMIN');
    given(...team, roleGranted(grantId(2), group(G), 'admin'))
      .when(removeMember('alice'))
      .then(roleRevoked(grantId(1), user('alice'), 'admin', null, 'member-removed'), memberRemoved('alice'));
  });

  it('does not count a workspace admin or an API key as a tenant admin', () => {
    given(
      ...team,
      roleGranted(grantId(2), user('bob'), 'admin', ROOT_ID),
      apiKeyIssued(KEY, { role: 'admin' }),
    )
      .when(removeMember('alice'))
      .thenFails('LAST_ADMIN');
  });
});

describe('groups', () => {
  it('creates a group once; the same id and name again is nothing to do', () => {
    given(...team)
      .when(createGroup(H, 'Dev'))
      .then(groupCreated(H, 'Dev'));
    given(...team)
      .when(createGroup(G, 'ops'))
      .thenNothing();
  });

  it('keeps group names unique case-insensitively and group ids never reused', () => {
    given(...team)
      .when(createGroup(H, 'OPS'))
      .thenFails('GROUP_NAME_TAKEN');
    given(...team)
      .when(createGroup(G, 'Dev'))
      .thenFails('GROUP_ID_TAKEN');
    given(...team, groupDeleted(G))
      .when(createGroup(G, 'Ops'))
      .thenFails('GROUP_ID_TAKEN');
    given(...team, groupDeleted(G))
      .when(createGroup(H, 'Ops'))
      .then(groupCreated(H, 'Ops'));
  });

  it("renames a group, allowing a change of case, refusing another group's name", () => {
    given(...team)
      .when(renameGroup(G, 'OPS'))
      .then({ type: 'GroupRenamed', data: { tenantId: T, groupId: G, name: 'OPS' } });
    given(...team)
      .when(renameGroup(G, 'Ops'))
      .thenNothing();
    given(...team, groupCreated(H, 'Dev'))
      .when(renameGroup(H, 'ops'))
      .thenFails('GROUP_NAME_TAKEN');
    given(...team)
      .when(renameGroup(H, 'x'))
      .thenFails('GROUP_NOT_FOUND');
  });

  it('deletes a group after revoking its grants', () => {
    given(...team, roleGranted(grantId(2), group(G), 'viewer', A))
      .when(deleteGroup(G))
      .then(roleRevoked(grantId(2), group(G), 'viewer', A, 'group-deleted'), groupDeleted(G));
    given(...team, groupDeleted(G))
      .when(deleteGroup(G))
      .thenFails('GROUP_NOT_FOUND');
  });

  it('refuses to delete the group through which the only admins are admins', () => {
    const adminsByGroup = [
      ...active,
      memberAdded('alice'),
      memberAdded('bob'),
      groupCreated(G, 'Admins'),
      groupMemberAdded(G, 'alice'),
      groupMemberAdded(G, 'bob'),
      roleGranted(grantId(1), group(G), 'admin'),
    ];
    given(...adminsByGroup)
      .when(deleteGroup(G))
      .thenFails('LAST_ADMIN');
    given(...adminsByGroup)
      .when(removeFromGroup(G, 'alice'))
      .then(groupMemberRemoved(G, 'alice'));
    given(...adminsByGroup, groupMemberRemoved(G, 'alice'))
      .when(removeFromGroup(G, 'bob'))
      .thenFails('LAST_ADMIN');
    // alice's own grant keeps her an admin after the group goes.
    given(...adminsByGroup, roleGranted(grantId(2), user('alice'), 'admin'))
      .when(deleteGroup(G))
      .then(roleRevoked(grantId(1), group(G), 'admin', null, 'group-deleted'), groupDeleted(G));
  });

  it('adds and removes members; a repeat is nothing to do; only members of the tenant join', () => {
    given(...team)
      .when(addToGroup(G, 'alice'))
      .then(groupMemberAdded(G, 'alice'));
    given(...team)
      .when(addToGroup(G, 'bob'))
      .thenNothing();
    given(...team)
      .when(addToGroup(G, 'carol'))
      .thenFails('MEMBER_NOT_FOUND');
    given(...team)
      .when(addToGroup(H, 'bob'))
      .thenFails('GROUP_NOT_FOUND');
    given(...team)
      .when(removeFromGroup(G, 'bob'))
      .then(groupMemberRemoved(G, 'bob'));
    given(...team)
      .when(removeFromGroup(G, 'alice'))
      .thenNothing();
  });
});

describe('GrantRole', () => {
  it('grants a role to a member, a group or an API key, on the tenant or a live workspace', () => {
    given(...team)
      .when(grant(grantId(9), user('bob'), 'editor', A))
      .then(roleGranted(grantId(9), user('bob'), 'editor', A));
    given(...team)
      .when(grant(grantId(9), group(G), 'viewer'))
      .then(roleGranted(grantId(9), group(G), 'viewer'));
    given(...team, apiKeyIssued(KEY, { role: 'reader', workspaceId: A }))
      .when(grant(grantId(9), apiKey(KEY), 'editor', B))
      .then(roleGranted(grantId(9), apiKey(KEY), 'editor', B));
  });

  it('creates the root first when the grant is on it before its bootstrap', () => {
    given(tenantCreated(), memberAdded('bob'))
      .when(grant(grantId(9), user('bob'), 'editor', ROOT_ID))
      .then(rootCreated(), roleGranted(grantId(9), user('bob'), 'editor', ROOT_ID));
    given(tenantCreated(), memberAdded('bob'))
      .when(grant(grantId(9), user('bob'), 'editor', A))
      .thenFails('WORKSPACE_NOT_FOUND');
    given(tenantCreated(), memberAdded('bob'), tenantDeletionStarted())
      .when(grant(grantId(9), user('bob'), 'editor', ROOT_ID))
      .thenFails('TENANT_DELETING');
  });

  it('is nothing to do when the principal already holds that role on that scope', () => {
    given(...team, roleGranted(grantId(2), user('bob'), 'editor', A))
      .when(grant(grantId(9), user('bob'), 'editor', A))
      .thenNothing();
  });

  it('replaces the grant of another role on the same scope', () => {
    given(...team, roleGranted(grantId(2), user('bob'), 'editor', A))
      .when(grant(grantId(9), user('bob'), 'admin', A))
      .then(
        roleRevoked(grantId(2), user('bob'), 'editor', A, 'replaced'),
        roleGranted(grantId(9), user('bob'), 'admin', A),
      );
  });

  it('refuses to demote the last admin user', () => {
    given(...team)
      .when(grant(grantId(9), user('alice'), 'editor'))
      .thenFails('LAST_ADMIN');
  });

  it('refuses principals that do not exist and scopes that are not live', () => {
    given(...team)
      .when(grant(grantId(9), user('carol'), 'viewer'))
      .thenFails('MEMBER_NOT_FOUND');
    given(...team)
      .when(grant(grantId(9), group(H), 'viewer'))
      .thenFails('GROUP_NOT_FOUND');
    given(...team)
      .when(grant(grantId(9), apiKey(KEY), 'viewer'))
      .thenFails('API_KEY_NOT_FOUND');
    given(...team, apiKeyIssued(KEY), { type: 'ApiKeyRevoked', data: { tenantId: T, apiKeyId: KEY } })
      .when(grant(grantId(9), apiKey(KEY), 'viewer', A))
      .thenFails('API_KEY_NOT_FOUND');
    given(...team)
      .when(grant(grantId(9), user('bob'), 'viewer', workspaceId(0xdead)))
      .thenFails('WORKSPACE_NOT_FOUND');
    given(...team, workspaceDeleted(B, A, 'requested'))
      .when(grant(grantId(9), user('bob'), 'viewer', B))
      .thenFails('WORKSPACE_NOT_FOUND');
    given(...team, workspaceDeletionStarted(A))
      .when(grant(grantId(9), user('bob'), 'viewer', B))
      .thenFails('WORKSPACE_DELETING');
  });

  it('refuses bad input: role, principal type, ids', () => {
    given(...team)
      .when(grant(grantId(9), user('bob'), 'owner' as Role))
      .thenFails('VALIDATION_FAILED');
    given(...team)
      .when(grant(grantId(9), { type: 'robot', id: 'x' } as unknown as PrincipalRef, 'viewer'))
      .thenFails('VALIDATION_FAILED');
    given(...team)
      .when(grant('not-a-uuid', user('bob'), 'viewer'))
      .thenFails('VALIDATION_FAILED');
  });

  it("never reuses a grant id, and leaves an API key's own role to the key", () => {
    given(...team)
      .when(grant(grantId(1), user('bob'), 'viewer'))
      .thenFails('GRANT_ID_TAKEN');
    given(
      ...team,
      roleGranted(grantId(2), user('bob'), 'viewer'),
      roleRevoked(grantId(2), user('bob'), 'viewer', null, 'requested'),
    )
      .when(grant(grantId(2), user('bob'), 'viewer'))
      .thenFails('GRANT_ID_TAKEN');
    given(...team, apiKeyIssued(KEY, { role: 'reader' }))
      .when(grant(grantId(9), apiKey(KEY), 'admin'))
      .thenFails('GRANT_OF_API_KEY');
    given(...team, apiKeyIssued(KEY, { role: 'reader' }))
      .when(grant(grantId(9), apiKey(KEY), 'viewer'))
      .thenNothing();
  });
});

describe('RevokeRole', () => {
  it('revokes a grant; a revoked or unknown grant is not found', () => {
    const granted = [...team, roleGranted(grantId(2), user('bob'), 'editor', A)];
    given(...granted)
      .when(revoke(grantId(2)))
      .then(roleRevoked(grantId(2), user('bob'), 'editor', A, 'requested'));
    given(...granted, roleRevoked(grantId(2), user('bob'), 'editor', A, 'requested'))
      .when(revoke(grantId(2)))
      .thenFails('GRANT_NOT_FOUND');
    given(...granted)
      .when(revoke(grantId(77)))
      .thenFails('GRANT_NOT_FOUND');
  });

  it("refuses to revoke the last admin user's grant and an API key's own role", () => {
    given(...team)
      .when(revoke(grantId(1)))
      .thenFails('LAST_ADMIN');
    given(...team, apiKeyIssued(KEY))
      .when(revoke(apiKeyGrantIdOf(KEY)))
      .thenFails('GRANT_OF_API_KEY');
  });
});

describe('grants and the rest of the tenant', () => {
  it('revokes the grants on a workspace, then the keys scoped to it, right before it is deleted', () => {
    given(...team, roleGranted(grantId(2), user('bob'), 'editor', B), apiKeyIssued(KEY, { workspaceId: B }))
      .when({ type: 'DeleteWorkspace', tenantId: T, workspaceId: B, cascade: false })
      .then(
        roleRevoked(grantId(2), user('bob'), 'editor', B, 'workspace-deleted'),
        roleRevoked(apiKeyGrantIdOf(KEY), apiKey(KEY), 'admin', B, 'workspace-deleted'),
        apiKeyRevoked(KEY),
        workspaceDeleted(B, A, 'requested'),
      );
  });

  it('revokes before each WorkspaceDeleted of a cascade, and counts only workspaces against the batch', () => {
    const history = [
      ...team,
      roleGranted(grantId(2), user('bob'), 'editor', B),
      roleGranted(grantId(3), group(G), 'viewer', A),
      roleGranted(grantId(4), user('bob'), 'viewer', A),
      workspaceDeletionStarted(A),
    ];
    given(...history)
      .when({ type: 'ContinueDeletion', tenantId: T, maxBatch: 1 })
      .then(
        roleRevoked(grantId(2), user('bob'), 'editor', B, 'workspace-deleted'),
        workspaceDeleted(B, A, 'cascade'),
      );
    given(...history)
      .when({ type: 'ContinueDeletion', tenantId: T, maxBatch: 2 })
      .then(
        roleRevoked(grantId(2), user('bob'), 'editor', B, 'workspace-deleted'),
        workspaceDeleted(B, A, 'cascade'),
        // On one workspace: the users' grants, then the groups', then the API keys', each in grant order.
        roleRevoked(grantId(4), user('bob'), 'viewer', A, 'workspace-deleted'),
        roleRevoked(grantId(3), group(G), 'viewer', A, 'workspace-deleted'),
        workspaceDeleted(A, ROOT_ID, 'cascade'),
      );
  });

  it("revokes an API key's grants before the key", () => {
    given(...team, apiKeyIssued(KEY), roleGranted(grantId(2), apiKey(KEY), 'viewer', A))
      .when({ type: 'RevokeApiKey', tenantId: T, apiKeyId: KEY })
      .then(roleRevoked(grantId(2), apiKey(KEY), 'viewer', A, 'api-key-revoked'), {
        type: 'ApiKeyRevoked',
        data: { tenantId: T, apiKeyId: KEY },
      });
  });

  it('counts an issued key as a grant of its role and ends it with the key (no event rewritten)', () => {
    const issued = fold([...team, apiKeyIssued(KEY, { role: 'reader', workspaceId: A })]);
    expect(issued.membership.grants.get(apiKeyGrantIdOf(KEY))).toEqual({
      grantId: apiKeyGrantIdOf(KEY),
      principal: apiKey(KEY),
      role: 'viewer',
      workspaceId: A,
      origin: 'api-key',
    });
    const revoked = evolve(issued, { type: 'ApiKeyRevoked', data: { tenantId: T, apiKeyId: KEY } });
    expect(revoked.membership.grants.has(apiKeyGrantIdOf(KEY))).toBe(false);
  });

  it("drops a key's role on a workspace deleted in a history older than grants (no RoleRevoked there)", () => {
    const state = fold([...team, apiKeyIssued(KEY, { workspaceId: B }), workspaceDeleted(B, A, 'requested')]);
    expect(state.membership.grantsOn(B)).toHaveLength(0);
  });

  it('ends every member, group and grant with the tenant', () => {
    const state = fold([
      ...team,
      tenantDeletionStarted(),
      workspaceDeleted(B, A, 'tenant-deleted'),
      tenantDeleted(),
    ]);
    expect(state.membership.members.size).toBe(0);
    expect(state.membership.groups.size).toBe(0);
    expect(state.membership.grants.size).toBe(0);
    expect(state.membership.tenantAdminUserCount).toBe(0);
  });

  it('keeps the admin count right through groups, direct grants and removals', () => {
    let state = fold(team);
    expect(state.membership.tenantAdminUserCount).toBe(1);
    for (const event of [
      roleGranted(grantId(2), group(G), 'admin'),
      groupMemberAdded(G, 'alice'),
      memberAdded('carol'),
      groupMemberAdded(G, 'carol'),
    ])
      state = evolve(state, event);
    expect(state.membership.tenantAdminUserCount).toBe(3);
    expect(state.membership.tenantAdminGrantsReaching('alice')).toBe(2);
    for (const event of [
      roleRevoked(grantId(2), group(G), 'admin', null, 'requested'),
      memberRemoved('carol'),
    ])
      state = evolve(state, event);
    expect(state.membership.tenantAdminUserCount).toBe(1);
    expect(state.membership.tenantAdminGrantsReaching('alice')).toBe(1);
    expect(() => decide(removeMember('alice'), state)).toThrow(/without an admin/);
  });
});

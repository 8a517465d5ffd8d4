/**
 * The facts of the tenant's members, groups and role grants. They live in the tenant's own stream
 * (`tenant-<tenantId>`), so every rule about them (the last admin, a grant on a live workspace, a
 * principal that exists) is checked against the same consistent state as the workspace tree.
 */

type EventOf<Type extends string, Data> = { readonly type: Type; readonly data: Readonly<Data> };

export type Role = 'viewer' | 'editor' | 'admin';

export type PrincipalType = 'user' | 'group' | 'apiKey';

/** Who a grant is for: a member user, a group of the tenant, or one of the tenant's API keys. */
export interface PrincipalRef {
  readonly type: PrincipalType;
  readonly id: string;
}

/** A user joined the tenant. The service does not authenticate users: userId is the caller's subject id. */
export type MemberAdded = EventOf<
  'MemberAdded',
  { tenantId: string; userId: string; displayName: string | null }
>;

/** A member's display name changed (PUT of an existing member with another displayName). */
export type MemberUpdated = EventOf<
  'MemberUpdated',
  { tenantId: string; userId: string; displayName: string | null }
>;

/**
 * A user left the tenant. Emitted after the GroupMemberRemoved and RoleRevoked events that take away
 * the member's group memberships and grants, so that no consumer ever sees a grant of a non-member.
 */
export type MemberRemoved = EventOf<'MemberRemoved', { tenantId: string; userId: string }>;

export type GroupCreated = EventOf<'GroupCreated', { tenantId: string; groupId: string; name: string }>;

export type GroupRenamed = EventOf<'GroupRenamed', { tenantId: string; groupId: string; name: string }>;

/** Emitted after the RoleRevoked events of the group's grants; the group's memberships end with it. */
export type GroupDeleted = EventOf<'GroupDeleted', { tenantId: string; groupId: string }>;

export type GroupMemberAdded = EventOf<
  'GroupMemberAdded',
  { tenantId: string; groupId: string; userId: string }
>;

/** requested: taken out of the group; member-removed: the user left the tenant. */
export type GroupMemberRemovalReason = 'requested' | 'member-removed';

export type GroupMemberRemoved = EventOf<
  'GroupMemberRemoved',
  { tenantId: string; groupId: string; userId: string; reason: GroupMemberRemovalReason }
>;

/**
 * A role on the tenant (workspaceId null: every workspace) or on a workspace and its whole subtree.
 * A principal holds at most one grant per scope: granting another role on the same scope revokes
 * the previous grant (reason 'replaced') first.
 */
export type RoleGranted = EventOf<
  'RoleGranted',
  { tenantId: string; grantId: string; principal: PrincipalRef; role: Role; workspaceId: string | null }
>;

/**
 * Why a grant ended. Every reason but 'requested' and 'replaced' is a consequence of another change
 * in the same append: the workspace's deletion (the RoleRevoked events come before its
 * WorkspaceDeleted), the member's removal, the group's deletion or the API key's revocation.
 */
export type RoleRevocationReason =
  'requested' | 'replaced' | 'workspace-deleted' | 'member-removed' | 'group-deleted' | 'api-key-revoked';

/** Carries the grant's principal, role and scope, so that consumers need no lookup to undo it. */
export type RoleRevoked = EventOf<
  'RoleRevoked',
  {
    tenantId: string;
    grantId: string;
    principal: PrincipalRef;
    role: Role;
    workspaceId: string | null;
    reason: RoleRevocationReason;
  }
>;

export type MembershipEvent =
  | MemberAdded
  | MemberUpdated
  | MemberRemoved
  | GroupCreated
  | GroupRenamed
  | GroupDeleted
  | GroupMemberAdded
  | GroupMemberRemoved
  | RoleGranted
  | RoleRevoked;

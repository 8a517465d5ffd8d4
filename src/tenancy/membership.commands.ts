/** Orders about the tenant's members, groups and grants. Ids arrive with the command, as everywhere. */
import type { PrincipalRef, Role } from './membership.events.js';
import type { PersonalText } from './personal-text.js';

type CommandOf<Type extends string, Data> = { readonly type: Type } & Readonly<Data>;

/**
 * Adds the user, or changes the display name of a member (nothing when it is the same). The display
 * name arrives sealed (personal-text.ts): the same name sealed for the same person seals the same.
 * `onlyIf`: the client's condition on the member's existence (`absent`: add only, from
 * `If-None-Match: *`; `present`: change only, from `If-Match: *`), decided on the same state.
 */
export type AddMember = CommandOf<
  'AddMember',
  { tenantId: string; userId: string; displayName?: PersonalText | null; onlyIf?: MemberCondition }
>;

/**
 * Whether the member (of the tenant, or of a group) must be absent (add only) or present (change
 * only) for the command to apply.
 */
export type MemberCondition = 'absent' | 'present';

/**
 * Records that the person's personal data was erased. The application deletes their key first;
 * this is allowed on a suspended or deleted tenant too (a person's right outlasts the tenant).
 */
export type ErasePersonalData = CommandOf<'ErasePersonalData', { tenantId: string; userId: string }>;

/** Removes the member with their group memberships and grants. */
export type RemoveMember = CommandOf<'RemoveMember', { tenantId: string; userId: string }>;

export type CreateGroup = CommandOf<'CreateGroup', { tenantId: string; groupId: string; name: string }>;

export type RenameGroup = CommandOf<'RenameGroup', { tenantId: string; groupId: string; name: string }>;

/** Deletes the group and revokes its grants. */
export type DeleteGroup = CommandOf<'DeleteGroup', { tenantId: string; groupId: string }>;

/** `onlyIf`: the client's condition on the user's being in the group, as for AddMember. */
export type AddGroupMember = CommandOf<
  'AddGroupMember',
  { tenantId: string; groupId: string; userId: string; onlyIf?: MemberCondition }
>;

export type RemoveGroupMember = CommandOf<
  'RemoveGroupMember',
  { tenantId: string; groupId: string; userId: string }
>;

export type GrantRole = CommandOf<
  'GrantRole',
  {
    tenantId: string;
    /** Used only when a new grant is recorded; a repeat answers with the existing grant. */
    grantId: string;
    principal: PrincipalRef;
    role: Role;
    /** null or absent: the whole tenant. */
    workspaceId?: string | null;
  }
>;

export type RevokeRole = CommandOf<'RevokeRole', { tenantId: string; grantId: string }>;

export type MembershipCommand =
  | AddMember
  | RemoveMember
  | CreateGroup
  | RenameGroup
  | DeleteGroup
  | AddGroupMember
  | RemoveGroupMember
  | GrantRole
  | RevokeRole
  | ErasePersonalData;

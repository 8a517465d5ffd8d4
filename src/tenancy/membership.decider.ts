/**
 * The membership area of the tenant aggregate: members, groups and role grants. `decide` in
 * tenancy.decider.ts hands these commands here, so they are decided on the same state, under the
 * same expected revision, as the workspace tree they refer to.
 */
import { apiKeyGrantIdOf, roleOfApiKey } from './api-key-grants.js';
import type { MemberCondition, MembershipCommand } from './membership.commands.js';
import type {
  MembershipEvent,
  PrincipalRef,
  PrincipalType,
  Role,
  RoleRevocationReason,
  RoleRevoked,
} from './membership.events.js';
import {
  isTenantAdminGrant,
  MutableMembershipState,
  scopeKeyOf,
  TENANT_SCOPE,
  type GrantState,
  type MembershipState,
} from './membership.state.js';
import { parseResourceName, resourceNameKey } from './resource-name.js';
import { invalidField, TenancyRuleViolation } from './tenancy.errors.js';
import type { ApiKeyIssued, TenancyEvent } from './tenancy.events.js';
import { requireActiveTenant, tenantNotFound, workspaceReadyForChange } from './tenant-rules.js';
import { requireSealed, samePersonalText } from './personal-text.js';
import { requireWithinQuota, type Quotas } from './quotas.js';
import type { TenantState } from './tenant.state.js';
import { parseNewUserId, parseUserId } from './user-id.js';
import { isCanonicalUuid } from './uuid.js';

const ROLES: ReadonlySet<string> = new Set<Role>(['viewer', 'editor', 'admin']);
const PRINCIPAL_TYPES: ReadonlySet<string> = new Set<PrincipalType>(['user', 'group', 'apiKey']);

export function decideMembership(
  command: MembershipCommand,
  state: TenantState,
  quotas: Quotas,
): TenancyEvent[] {
  const { tenantId } = command;
  const membership = state.membership;
  if (command.type === 'ErasePersonalData') {
    // Not refused while suspended, deleting or deleted: a person's erasure outlasts the tenant.
    if (state.status === 'none') throw tenantNotFound(tenantId);
    const userId = parseUserId(command.userId);
    const status = membership.personalDataOf(userId);
    if (status === undefined) throw new TenancyRuleViolation('MEMBER_NOT_FOUND', `No member ${userId}.`);
    if (status === 'erased') return [];
    return [{ type: 'PersonalDataErased', data: { tenantId, userId } }];
  }
  requireActiveTenant(state, tenantId);
  switch (command.type) {
    case 'AddMember': {
      const userId = parseNewUserId(command.userId);
      const displayName =
        command.displayName === undefined || command.displayName === null
          ? null
          : requireSealed(command.displayName, 'displayName');
      const existing = membership.members.get(userId);
      requireMemberCondition(command.onlyIf, `member ${userId}`, existing !== undefined);
      if (existing === undefined) {
        const count = membership.members.size;
        requireWithinQuota('maxMembers', quotas.maxMembers, count, count + 1);
        return [{ type: 'MemberAdded', data: { tenantId, userId, displayName } }];
      }
      // Absent means "leave it as it is"; null clears it.
      if (command.displayName === undefined || samePersonalText(existing.displayName, displayName)) return [];
      return [{ type: 'MemberUpdated', data: { tenantId, userId, displayName } }];
    }
    case 'RemoveMember': {
      const userId = requireMember(membership, command.userId);
      if (membership.tenantAdminGrantsReaching(userId) > 0) refuseLosingAdmins(membership, 1);
      return [
        ...[...membership.groupsOf(userId)].map((groupId): MembershipEvent => ({
          type: 'GroupMemberRemoved',
          data: { tenantId, groupId, userId, reason: 'member-removed' },
        })),
        ...revocations(tenantId, membership.grantsOf('user', userId).values(), 'member-removed'),
        { type: 'MemberRemoved', data: { tenantId, userId } },
      ];
    }
    case 'CreateGroup': {
      const groupId = requireUuid(command.groupId, 'groupId');
      const name = parseResourceName(command.name);
      const existing = membership.groups.get(groupId);
      if (existing !== undefined) {
        if (existing.nameKey === name.key) return [];
        throw groupIdTaken(groupId, 'already exists with another name');
      }
      if (membership.isRetiredGroupId(groupId))
        throw groupIdTaken(groupId, 'was deleted; group ids are never reused');
      if (membership.groupNamed(name.key) !== undefined) throw groupNameTaken(name.display);
      const count = membership.groups.size;
      requireWithinQuota('maxGroups', quotas.maxGroups, count, count + 1);
      return [{ type: 'GroupCreated', data: { tenantId, groupId, name: name.display } }];
    }
    case 'RenameGroup': {
      const group = requireGroup(membership, command.groupId);
      const name = parseResourceName(command.name);
      if (group.name === name.display) return [];
      const holder = membership.groupNamed(name.key);
      if (holder !== undefined && holder !== group.groupId) throw groupNameTaken(name.display);
      return [{ type: 'GroupRenamed', data: { tenantId, groupId: group.groupId, name: name.display } }];
    }
    case 'DeleteGroup': {
      const group = requireGroup(membership, command.groupId);
      const grants = membership.grantsOf('group', group.groupId);
      refuseLosingAdmins(membership, adminsLostWith(membership, grants.get(TENANT_SCOPE)));
      return [
        ...revocations(tenantId, grants.values(), 'group-deleted'),
        { type: 'GroupDeleted', data: { tenantId, groupId: group.groupId } },
      ];
    }
    case 'AddGroupMember': {
      const group = requireGroup(membership, command.groupId);
      const userId = requireMember(membership, command.userId);
      const inGroup = group.members.has(userId);
      requireMemberCondition(command.onlyIf, `member ${userId} of group ${group.groupId}`, inGroup);
      if (inGroup) return [];
      return [{ type: 'GroupMemberAdded', data: { tenantId, groupId: group.groupId, userId } }];
    }
    case 'RemoveGroupMember': {
      const group = requireGroup(membership, command.groupId);
      const userId = requireMember(membership, command.userId);
      if (!group.members.has(userId)) return [];
      const groupIsTenantAdmin = isTenantAdminGrant(
        membership.grantsOf('group', group.groupId).get(TENANT_SCOPE),
      );
      if (groupIsTenantAdmin && membership.tenantAdminGrantsReaching(userId) === 1)
        refuseLosingAdmins(membership, 1);
      return [
        {
          type: 'GroupMemberRemoved',
          data: { tenantId, groupId: group.groupId, userId, reason: 'requested' },
        },
      ];
    }
    case 'GrantRole':
      return grantRole(command, state);
    case 'RevokeRole': {
      const grant = membership.grants.get(command.grantId);
      if (grant === undefined) throw grantNotFound(command.grantId);
      if (grant.origin === 'api-key') throw grantOfApiKey(grant.grantId);
      refuseLosingAdmins(membership, adminsLostWith(membership, grant));
      return revocations(tenantId, [grant], 'requested');
    }
    default: {
      const _exhaustive: never = command;
      throw new Error('unreachable');
    }
  }
}

function grantRole(
  command: Extract<MembershipCommand, { type: 'GrantRole' }>,
  state: TenantState,
): TenancyEvent[] {
  const { tenantId } = command;
  const membership = state.membership;
  const grantId = requireUuid(command.grantId, 'grantId');
  if (typeof command.role !== 'string' || !ROLES.has(command.role)) {
    throw invalidField('role', "must be 'viewer', 'editor' or 'admin'");
  }
  const role = command.role;
  const principal = requirePrincipal(state, command.principal);
  const workspaceId = command.workspaceId ?? null;
  const events: TenancyEvent[] = [];
  if (workspaceId !== null) {
    requireUuid(workspaceId, 'workspaceId');
    events.push(...workspaceReadyForChange(state, tenantId, workspaceId));
  }
  const existing = membership.grantsOf(principal.type, principal.id).get(scopeKeyOf(workspaceId));
  if (existing?.role === role) return [];
  if (existing?.origin === 'api-key') throw grantOfApiKey(existing.grantId);
  if (membership.grants.has(grantId) || membership.isRetiredGrantId(grantId)) {
    throw new TenancyRuleViolation('GRANT_ID_TAKEN', `grant ${grantId} already exists or existed`);
  }
  if (existing !== undefined) {
    // One grant per principal and scope: another role replaces it, which may demote the last admin.
    if (role !== 'admin') refuseLosingAdmins(membership, adminsLostWith(membership, existing));
    events.push(...revocations(tenantId, [existing], 'replaced'));
  }
  events.push({ type: 'RoleGranted', data: { tenantId, grantId, principal, role, workspaceId } });
  return events;
}

/**
 * The RoleRevoked events for every grant on a workspace about to be deleted, the API key's own role
 * on it included: they go right before the workspace's WorkspaceDeleted, the users' grants first,
 * then the groups', then the API keys', each in grant order.
 */
export function revocationsOnWorkspace(
  state: TenantState,
  tenantId: string,
  workspaceId: string,
): RoleRevoked[] {
  return revocations(tenantId, state.membership.grantsOn(workspaceId), 'workspace-deleted');
}

/** The RoleRevoked events for the explicit grants of an API key about to be revoked. */
export function revocationsOfApiKey(state: TenantState, tenantId: string, apiKeyId: string): RoleRevoked[] {
  const grants = [...state.membership.grantsOf('apiKey', apiKeyId).values()];
  return revocations(
    tenantId,
    grants.filter((grant) => grant.origin === 'granted'),
    'api-key-revoked',
  );
}

function revocations(
  tenantId: string,
  grants: Iterable<GrantState>,
  reason: RoleRevocationReason,
): RoleRevoked[] {
  return [...grants].map(({ grantId, principal, role, workspaceId }) => ({
    type: 'RoleRevoked',
    data: { tenantId, grantId, principal, role, workspaceId, reason },
  }));
}

/** How many users would stop being tenant admins if this grant went. */
function adminsLostWith(membership: MembershipState, grant: GrantState | undefined): number {
  if (grant === undefined || !isTenantAdminGrant(grant)) return 0;
  const holders =
    grant.principal.type === 'user'
      ? [grant.principal.id]
      : grant.principal.type === 'group'
        ? (membership.groups.get(grant.principal.id)?.members ?? [])
        : [];
  let lost = 0;
  for (const userId of holders) if (membership.tenantAdminGrantsReaching(userId) === 1) lost += 1;
  return lost;
}

/** Once the tenant has an admin user it keeps one: a change that would take away the last is refused. */
function refuseLosingAdmins(membership: MembershipState, lost: number): void {
  if (lost > 0 && lost >= membership.tenantAdminUserCount) {
    throw new TenancyRuleViolation(
      'LAST_ADMIN',
      'this would leave the tenant without an admin user; make someone else a tenant admin first',
    );
  }
}

function requirePrincipal(state: TenantState, raw: PrincipalRef | undefined): PrincipalRef {
  if (typeof raw !== 'object' || raw === null || !PRINCIPAL_TYPES.has(raw.type)) {
    throw invalidField('principal.type', "must be 'user', 'group' or 'apiKey'");
  }
  switch (raw.type) {
    case 'user':
      return { type: 'user', id: requireMember(state.membership, raw.id) };
    case 'group':
      return { type: 'group', id: requireGroup(state.membership, raw.id).groupId };
    case 'apiKey': {
      const id = requireUuid(raw.id, 'principal.id');
      if (state.apiKeys.get(id)?.status !== 'active') {
        throw new TenancyRuleViolation('API_KEY_NOT_FOUND', `No API key ${id}.`);
      }
      return { type: 'apiKey', id };
    }
    default: {
      const _exhaustive: never = raw.type;
      throw new Error('unreachable');
    }
  }
}

/**
 * The client's condition on a membership's existence (If-None-Match: * or If-Match: *), if any;
 * `membership` names it (`member alice`, `member alice of group …`).
 */
export function requireMemberCondition(
  condition: MemberCondition | undefined,
  membership: string,
  exists: boolean,
): void {
  if (condition === 'absent' && exists) {
    throw new TenancyRuleViolation(
      'PRECONDITION_FAILED',
      `The ${membership} exists already (If-None-Match: *).`,
    );
  }
  if (condition === 'present' && !exists) {
    throw new TenancyRuleViolation('PRECONDITION_FAILED', `No ${membership} (If-Match: *).`);
  }
}

function requireMember(membership: MembershipState, raw: unknown): string {
  const userId = parseUserId(raw);
  if (!membership.members.has(userId)) {
    throw new TenancyRuleViolation('MEMBER_NOT_FOUND', `No member ${userId}.`);
  }
  return userId;
}

function requireGroup(membership: MembershipState, raw: unknown) {
  const groupId = requireUuid(raw, 'groupId');
  const group = membership.groups.get(groupId);
  if (group === undefined) throw new TenancyRuleViolation('GROUP_NOT_FOUND', `No group ${groupId}.`);
  return group;
}

function requireUuid(raw: unknown, field: string): string {
  if (!isCanonicalUuid(raw)) throw invalidField(field, 'must be a lowercase UUID');
  return raw;
}

function grantNotFound(grantId: string): TenancyRuleViolation {
  return new TenancyRuleViolation('GRANT_NOT_FOUND', `No grant ${grantId}.`);
}

function grantOfApiKey(grantId: string): TenancyRuleViolation {
  return new TenancyRuleViolation(
    'GRANT_OF_API_KEY',
    `grant ${grantId} is an API key's own role; revoke or issue the key instead`,
  );
}

function groupIdTaken(groupId: string, why: string): TenancyRuleViolation {
  return new TenancyRuleViolation('GROUP_ID_TAKEN', `group ${groupId} ${why}`);
}

function groupNameTaken(name: string): TenancyRuleViolation {
  return new TenancyRuleViolation('GROUP_NAME_TAKEN', `another group is named '${name}'`);
}

/**
 * The tenant's own copy of a workspace id (the one its workspace entry and lineage hold), so that
 * grants name their workspace with the very same string: a check then matches a grant's scope by
 * identity instead of comparing characters.
 */
export type CanonicalWorkspaceId = (workspaceId: string) => string;

/** Applies a membership event in place; tolerant like the rest of evolve (a misfit is ignored). */
export function evolveMembership(
  membership: MutableMembershipState,
  event: MembershipEvent,
  canonical: CanonicalWorkspaceId,
): void {
  switch (event.type) {
    case 'MemberAdded':
      if (!membership.members.has(event.data.userId))
        membership.putMember({ userId: event.data.userId, displayName: event.data.displayName });
      return;
    case 'MemberUpdated':
      if (membership.members.has(event.data.userId))
        membership.putMember({ userId: event.data.userId, displayName: event.data.displayName });
      return;
    case 'MemberRemoved':
      membership.removeMember(event.data.userId);
      return;
    case 'GroupCreated':
      if (!membership.groups.has(event.data.groupId) && !membership.isRetiredGroupId(event.data.groupId))
        membership.addGroup(event.data.groupId, event.data.name, resourceNameKey(event.data.name));
      return;
    case 'GroupRenamed':
      membership.renameGroup(event.data.groupId, event.data.name, resourceNameKey(event.data.name));
      return;
    case 'GroupDeleted':
      membership.removeGroup(event.data.groupId);
      return;
    case 'GroupMemberAdded':
      if (membership.members.has(event.data.userId))
        membership.addGroupMember(event.data.groupId, event.data.userId);
      return;
    case 'GroupMemberRemoved':
      membership.removeGroupMember(event.data.groupId, event.data.userId);
      return;
    case 'RoleGranted': {
      const { grantId, principal, role, workspaceId } = event.data;
      addGrantIfFree(membership, {
        grantId,
        principal: membership.canonicalPrincipal(principal),
        role,
        workspaceId: workspaceId === null ? null : canonical(workspaceId),
        origin: 'granted',
      });
      return;
    }
    case 'RoleRevoked':
      membership.removeGrant(event.data.grantId);
      return;
    case 'PersonalDataErased':
      membership.erasePersonalData(event.data.userId);
      return;
    default: {
      const _exhaustive: never = event;
      return;
    }
  }
}

/** The equivalence of api-key-grants.ts, applied as the key is folded in. */
export function evolveApiKeyIssued(
  membership: MutableMembershipState,
  event: ApiKeyIssued,
  canonical: CanonicalWorkspaceId,
): void {
  const { apiKeyId, role, workspaceId } = event.data;
  addGrantIfFree(membership, {
    grantId: apiKeyGrantIdOf(apiKeyId),
    principal: { type: 'apiKey', id: apiKeyId },
    role: roleOfApiKey(role),
    workspaceId: workspaceId === null ? null : canonical(workspaceId),
    origin: 'api-key',
  });
}

function addGrantIfFree(membership: MutableMembershipState, grant: GrantState): void {
  if (membership.grants.has(grant.grantId) || membership.isRetiredGrantId(grant.grantId)) return;
  if (membership.grantsOf(grant.principal.type, grant.principal.id).has(scopeKeyOf(grant.workspaceId)))
    return;
  membership.addGrant(grant);
}

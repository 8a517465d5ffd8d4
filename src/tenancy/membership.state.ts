/**
 * The tenant's members, groups and active grants, indexed for the two questions asked of them on hot
 * paths: "what may this principal do on this workspace?" (by principal, then by scope) and "who may
 * act here?" (by scope, then by principal). Mutated in place by the decider's evolve only, like the
 * rest of the tenant state; everything else sees the read-only MembershipState.
 */
import type { PrincipalRef, PrincipalType, Role } from './membership.events.js';
import type { PersonalText } from './personal-text.js';

/** The scope key of a grant on the whole tenant; workspace grants use the workspace id. */
export const TENANT_SCOPE = 'tenant';

export function scopeKeyOf(workspaceId: string | null): string {
  return workspaceId ?? TENANT_SCOPE;
}

export function principalKey(type: PrincipalType, id: string): string {
  return `${type}:${id}`;
}

export const ROLE_RANK: { readonly [R in Role]: number } = { viewer: 1, editor: 2, admin: 3 };

export interface MemberState {
  readonly userId: string;
  /** Sealed (or, from before sealing, plain); null when none was given or it was erased. */
  readonly displayName: PersonalText | null;
}

/**
 * Whether personal data of a person (ever a member) has been recorded since their last erasure:
 * 'held' from their MemberAdded or MemberUpdated on, 'erased' from their PersonalDataErased on.
 */
export type PersonalDataStatus = 'held' | 'erased';

export interface GroupState {
  readonly groupId: string;
  readonly name: string;
  readonly nameKey: string;
  /** Member user ids in the order they joined. */
  readonly members: ReadonlySet<string>;
}

/** 'api-key': the grant an API key's own role amounts to (see api-key-grants.ts); not revocable on its own. */
export type GrantOrigin = 'granted' | 'api-key';

export interface GrantState {
  readonly grantId: string;
  readonly principal: PrincipalRef;
  readonly role: Role;
  /** null: the whole tenant. */
  readonly workspaceId: string | null;
  readonly origin: GrantOrigin;
}

export interface MembershipState {
  /** Current members, in the order they joined. */
  readonly members: ReadonlyMap<string, MemberState>;
  /** Live groups, in creation order. */
  readonly groups: ReadonlyMap<string, GroupState>;
  /** Active grants, in grant order. */
  readonly grants: ReadonlyMap<string, GrantState>;
  /** Users who are tenant admins: a tenant-wide admin grant of their own or of one of their groups. */
  readonly tenantAdminUserCount: number;
  /** A group id of a deleted group: ids are never reused. */
  isRetiredGroupId(groupId: string): boolean;
  /** A grant id that was revoked: ids are never reused. */
  isRetiredGrantId(grantId: string): boolean;
  groupNamed(nameKey: string): string | undefined;
  /** The live groups the user belongs to; empty for anyone else. */
  groupsOf(userId: string): ReadonlySet<string>;
  /**
   * Active grants on one scope (TENANT_SCOPE or a workspace id): the users', then the groups', then
   * the API keys', each in grant order.
   */
  grantsOn(scopeKey: string): GrantState[];
  /** The same grants by principal type and id, for lookups; undefined when the scope has none. */
  grantsHere(scopeKey: string): ScopeGrants | undefined;
  /** Active grants of one principal, by scope key. */
  grantsOf(type: PrincipalType, id: string): ReadonlyMap<string, GrantState>;
  /** How many tenant-wide admin grants reach the user (its own and its groups'). */
  tenantAdminGrantsReaching(userId: string): number;
  /** undefined for someone who was never a member; kept after they leave and after the tenant goes. */
  personalDataOf(userId: string): PersonalDataStatus | undefined;
}

/** The grants on one scope, by principal type, then id. */
export type ScopeGrants = { readonly [T in PrincipalType]: ReadonlyMap<string, GrantState> };

const EMPTY_SET: ReadonlySet<string> = new Set();
const EMPTY_GRANTS: ReadonlyMap<string, GrantState> = new Map();

interface MutableGroup {
  groupId: string;
  name: string;
  nameKey: string;
  readonly members: Set<string>;
}

export class MutableMembershipState implements MembershipState {
  readonly members = new Map<string, MemberState>();
  readonly groups = new Map<string, MutableGroup>();
  readonly grants = new Map<string, GrantState>();
  tenantAdminUserCount = 0;
  private readonly retiredGroupIds = new Set<string>();
  private readonly retiredGrantIds = new Set<string>();
  private readonly groupByNameKey = new Map<string, string>();
  private readonly groupsByUser = new Map<string, Set<string>>();
  // A scope's map for a principal type exists only once that type holds a grant there (most scopes
  // hold grants of one type): three empty maps per scope were a fifth of a large tenant's state.
  private readonly grantsByScopeAndType = new Map<
    string,
    { [T in PrincipalType]: ReadonlyMap<string, GrantState> }
  >();
  // One map per principal type, keyed by the bare id: a check looks grants up without building keys.
  private readonly grantsByPrincipal: {
    readonly [T in PrincipalType]: Map<string, Map<string, GrantState>>;
  } = {
    user: new Map(),
    group: new Map(),
    apiKey: new Map(),
  };
  private readonly adminGrantsByUser = new Map<string, number>();
  private readonly personalData = new Map<string, PersonalDataStatus>();

  personalDataOf(userId: string): PersonalDataStatus | undefined {
    return this.personalData.get(userId);
  }

  isRetiredGroupId(groupId: string): boolean {
    return this.retiredGroupIds.has(groupId);
  }

  isRetiredGrantId(grantId: string): boolean {
    return this.retiredGrantIds.has(grantId);
  }

  groupNamed(nameKey: string): string | undefined {
    return this.groupByNameKey.get(nameKey);
  }

  groupsOf(userId: string): ReadonlySet<string> {
    return this.groupsByUser.get(userId) ?? EMPTY_SET;
  }

  grantsOn(scopeKey: string): GrantState[] {
    // Derived from the lookup index rather than kept as an index of its own: most scopes hold one
    // or two grants, and a second map per scope, keyed by a principal key built for each grant,
    // held them all again.
    const here = this.grantsByScopeAndType.get(scopeKey);
    return here === undefined ? [] : [...here.user.values(), ...here.group.values(), ...here.apiKey.values()];
  }

  grantsHere(scopeKey: string): ScopeGrants | undefined {
    return this.grantsByScopeAndType.get(scopeKey);
  }

  grantsOf(type: PrincipalType, id: string): ReadonlyMap<string, GrantState> {
    return this.grantsByPrincipal[type].get(id) ?? EMPTY_GRANTS;
  }

  tenantAdminGrantsReaching(userId: string): number {
    return this.adminGrantsByUser.get(userId) ?? 0;
  }

  /**
   * The principal with the state's own copy of its id where the state holds one (a member's, a
   * group's): each event decodes its own copy of every id it names, and a group's id kept once per
   * grant and membership of the group was most of the repeated ids in a large tenant's state.
   */
  canonicalPrincipal(principal: PrincipalRef): PrincipalRef {
    const { type, id } = principal;
    if (type === 'user') return { type, id: this.canonicalUserId(id) };
    if (type === 'group') return { type, id: this.groups.get(id)?.groupId ?? id };
    return { type, id };
  }

  private canonicalUserId(userId: string): string {
    return this.members.get(userId)?.userId ?? userId;
  }

  // ---- mutators: the decider's evolve only ----

  putMember(member: MemberState): void {
    this.members.set(member.userId, member);
    this.personalData.set(member.userId, 'held');
  }

  /** The person's display names are unreadable from now on: the member (if one) keeps none. */
  erasePersonalData(userId: string): void {
    if (!this.personalData.has(userId)) return;
    this.personalData.set(userId, 'erased');
    const member = this.members.get(userId);
    if (member !== undefined) this.members.set(userId, { ...member, displayName: null });
  }

  /** Drops the member and anything of theirs still left (the events before MemberRemoved took it all). */
  removeMember(userId: string): void {
    for (const groupId of [...this.groupsOf(userId)]) this.removeGroupMember(groupId, userId);
    for (const grant of [...this.grantsOf('user', userId).values()]) this.removeGrant(grant.grantId);
    this.members.delete(userId);
  }

  addGroup(groupId: string, name: string, nameKey: string): void {
    this.groups.set(groupId, { groupId, name, nameKey, members: new Set() });
    this.groupByNameKey.set(nameKey, groupId);
  }

  renameGroup(groupId: string, name: string, nameKey: string): void {
    const group = this.groups.get(groupId);
    if (group === undefined) return;
    if (this.groupByNameKey.get(group.nameKey) === groupId) this.groupByNameKey.delete(group.nameKey);
    group.name = name;
    group.nameKey = nameKey;
    this.groupByNameKey.set(nameKey, groupId);
  }

  removeGroup(groupId: string): void {
    const group = this.groups.get(groupId);
    if (group === undefined) return;
    for (const grant of [...this.grantsOf('group', groupId).values()]) this.removeGrant(grant.grantId);
    for (const userId of group.members) this.forgetGroupOfUser(userId, groupId);
    if (this.groupByNameKey.get(group.nameKey) === groupId) this.groupByNameKey.delete(group.nameKey);
    this.groups.delete(groupId);
    this.retiredGroupIds.add(groupId);
  }

  addGroupMember(groupId: string, userId: string): void {
    const group = this.groups.get(groupId);
    if (group === undefined || group.members.has(userId)) return;
    const member = this.canonicalUserId(userId);
    group.members.add(member);
    let groups = this.groupsByUser.get(member);
    if (groups === undefined) {
      groups = new Set();
      this.groupsByUser.set(member, groups);
    }
    groups.add(group.groupId);
    if (isTenantAdminGrant(this.tenantGrantOf('group', groupId))) this.countAdminGrant(member, +1);
  }

  removeGroupMember(groupId: string, userId: string): void {
    const group = this.groups.get(groupId);
    if (group === undefined || !group.members.delete(userId)) return;
    this.forgetGroupOfUser(userId, groupId);
    if (isTenantAdminGrant(this.tenantGrantOf('group', groupId))) this.countAdminGrant(userId, -1);
  }

  addGrant(grant: GrantState): void {
    const scope = scopeKeyOf(grant.workspaceId);
    this.grants.set(grant.grantId, grant);
    let here = this.grantsByScopeAndType.get(scope);
    if (here === undefined) {
      here = { user: EMPTY_GRANTS, group: EMPTY_GRANTS, apiKey: EMPTY_GRANTS };
      this.grantsByScopeAndType.set(scope, here);
    }
    const type = grant.principal.type;
    const ofType =
      here[type] === EMPTY_GRANTS ? new Map<string, GrantState>() : (here[type] as Map<string, GrantState>);
    ofType.set(grant.principal.id, grant);
    here[type] = ofType;
    indexGrant(this.grantsByPrincipal[grant.principal.type], grant.principal.id, scope, grant);
    if (isTenantAdminGrant(grant)) this.countAdminGrantsOf(grant.principal, +1);
  }

  removeGrant(grantId: string): void {
    const grant = this.grants.get(grantId);
    if (grant === undefined) return;
    const scope = scopeKeyOf(grant.workspaceId);
    this.grants.delete(grantId);
    this.retiredGrantIds.add(grantId);
    const here = this.grantsByScopeAndType.get(scope);
    if (here?.[grant.principal.type].get(grant.principal.id)?.grantId === grantId) {
      (here[grant.principal.type] as Map<string, GrantState>).delete(grant.principal.id);
      if (here[grant.principal.type].size === 0) here[grant.principal.type] = EMPTY_GRANTS;
      if (here.user.size + here.group.size + here.apiKey.size === 0) this.grantsByScopeAndType.delete(scope);
    }
    unindexGrant(this.grantsByPrincipal[grant.principal.type], grant.principal.id, scope, grantId);
    if (isTenantAdminGrant(grant)) this.countAdminGrantsOf(grant.principal, -1);
  }

  /** Every grant on one scope, e.g. of a workspace that is gone. */
  removeGrantsOn(scopeKey: string): void {
    for (const grant of this.grantsOn(scopeKey)) this.removeGrant(grant.grantId);
  }

  removeGrantsOf(type: PrincipalType, id: string): void {
    for (const grant of [...this.grantsOf(type, id).values()]) this.removeGrant(grant.grantId);
  }

  /** The tenant is gone, and with it every member, group and grant. */
  clear(): void {
    for (const grantId of this.grants.keys()) this.retiredGrantIds.add(grantId);
    for (const groupId of this.groups.keys()) this.retiredGroupIds.add(groupId);
    this.members.clear();
    this.groups.clear();
    this.grants.clear();
    this.groupByNameKey.clear();
    this.groupsByUser.clear();
    this.grantsByScopeAndType.clear();
    for (const index of Object.values(this.grantsByPrincipal)) index.clear();
    this.adminGrantsByUser.clear();
    this.tenantAdminUserCount = 0;
  }

  private tenantGrantOf(type: PrincipalType, id: string): GrantState | undefined {
    return this.grantsByPrincipal[type].get(id)?.get(TENANT_SCOPE);
  }

  private forgetGroupOfUser(userId: string, groupId: string): void {
    const groups = this.groupsByUser.get(userId);
    groups?.delete(groupId);
    if (groups?.size === 0) this.groupsByUser.delete(userId);
  }

  private countAdminGrantsOf(principal: PrincipalRef, delta: number): void {
    if (principal.type === 'user') this.countAdminGrant(principal.id, delta);
    if (principal.type === 'group') {
      for (const userId of this.groups.get(principal.id)?.members ?? EMPTY_SET)
        this.countAdminGrant(userId, delta);
    }
  }

  private countAdminGrant(userId: string, delta: number): void {
    const before = this.adminGrantsByUser.get(userId) ?? 0;
    const after = before + delta;
    if (after > 0) this.adminGrantsByUser.set(userId, after);
    else this.adminGrantsByUser.delete(userId);
    if (before === 0 && after > 0) this.tenantAdminUserCount += 1;
    if (before > 0 && after <= 0) this.tenantAdminUserCount -= 1;
  }
}

export function isTenantAdminGrant(grant: GrantState | undefined): boolean {
  return grant !== undefined && grant.workspaceId === null && grant.role === 'admin';
}

function indexGrant(
  index: Map<string, Map<string, GrantState>>,
  outer: string,
  inner: string,
  grant: GrantState,
): void {
  let entries = index.get(outer);
  if (entries === undefined) {
    entries = new Map();
    index.set(outer, entries);
  }
  entries.set(inner, grant);
}

function unindexGrant(
  index: Map<string, Map<string, GrantState>>,
  outer: string,
  inner: string,
  grantId: string,
): void {
  const entries = index.get(outer);
  if (entries?.get(inner)?.grantId === grantId) entries.delete(inner);
  if (entries?.size === 0) index.delete(outer);
}

import type {
  BootstrapRootWorkspace,
  ContinueDeletion,
  CreateTenant,
  CreateWorkspace,
  DeleteTenant,
  DeleteWorkspace,
  IssueApiKey,
  MoveWorkspace,
  ReactivateTenant,
  RenameTenant,
  RenameWorkspace,
  RevokeApiKey,
  SetTenantQuotas,
  SuspendTenant,
  TenancyCommand,
} from './tenancy.commands.js';
import { invalidField, TenancyRuleViolation } from './tenancy.errors.js';
import type {
  ApiKeyRevoked,
  TenancyEvent,
  WorkspaceCreated,
  WorkspaceDeleted,
  WorkspaceDeletionReason,
} from './tenancy.events.js';
import type { RoleRevoked } from './membership.events.js';
import { initialAdminGrantIdOf } from './api-key-grants.js';
import {
  decideMembership,
  evolveApiKeyIssued,
  evolveMembership,
  revocationsOfApiKey,
  revocationsOnWorkspace,
} from './membership.decider.js';
import {
  requireActiveTenant,
  requireWorkspaceOpenToChange,
  workspaceReadyForChange,
  tenantNotFound,
  workspaceDeleting,
  workspaceNotFound,
} from './tenant-rules.js';
import {
  BUILT_IN_QUOTA_DEFAULTS,
  effectiveQuotas,
  NO_QUOTA_OVERRIDES,
  parseQuotaOverrides,
  requireWithinQuota,
  sameOverrides,
  type Quotas,
} from './quotas.js';
import { parseNewUserId } from './user-id.js';
import { requireDisplayLine } from './display-text.js';
import { parseResourceName, resourceNameKey } from './resource-name.js';
import { isRootStillToCome, rootWorkspaceCreated, rootWorkspaceIdOf } from './root-workspace.js';
import {
  deletingAncestorOrSelf,
  findLiveWorkspace,
  MutableTenantState,
  type TenantState,
  type WorkspaceLineage,
  type WorkspaceState,
} from './tenant.state.js';
import { isCanonicalUuid } from './uuid.js';

/**
 * Keys live in the tenant's state and in every instance's in-memory key registry: a bound keeps
 * both small whatever a client does.
 */
export const MAX_ACTIVE_API_KEYS = 100;

const SECRET_HASH = /^sha256:[0-9a-f]{64}$/;
/** A suspension's reason is shown to operators and auditors: one line of text. */
const MAX_SUSPENSION_REASON_LENGTH = 500;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

export function initialState(): TenantState {
  return new MutableTenantState();
}

/**
 * Applies one event IN PLACE and returns the same state object: copying the indexes per event would
 * make folding (and keeping warm) a tenant with 100k workspaces quadratic. The previous state must not
 * be used after evolve; a caller that needs the old state must fold it again from the events.
 *
 * Tolerant by design: an event that does not fit the state (unknown workspace, repeated creation,
 * unknown type from a newer writer) is ignored instead of failing the whole fold.
 */
export function evolve(state: TenantState, event: TenancyEvent): TenantState {
  if (!(state instanceof MutableTenantState)) {
    throw new Error('evolve needs a state made by initialState()');
  }
  switch (event.type) {
    case 'TenantCreated':
      if (state.status === 'none') {
        state.status = 'active';
        state.tenantId = event.data.tenantId;
        state.name = event.data.name;
        state.nameKey = resourceNameKey(event.data.name);
        state.nameReservation = event.data.nameReservation;
        state.initialAdminUserId = null;
      }
      return state;
    case 'TenantSuspended':
      if (state.status === 'active') {
        state.status = 'suspended';
        state.suspensionReason = event.data.reason;
      }
      return state;
    case 'TenantReactivated':
      if (state.status === 'suspended') {
        state.status = 'active';
        state.suspensionReason = undefined;
      }
      return state;
    case 'TenantRenamed':
      if (state.status !== 'none') {
        state.name = event.data.name;
        state.nameKey = resourceNameKey(event.data.name);
        state.nameReservation = event.data.nameReservation;
      }
      return state;
    case 'TenantQuotasSet':
      if (state.status !== 'none') state.quotaOverrides = { ...NO_QUOTA_OVERRIDES, ...event.data.quotas };
      return state;
    case 'WorkspaceCreated':
      applyWorkspaceCreated(state, event);
      return state;
    case 'WorkspaceRenamed': {
      const workspace = findLiveWorkspace(state, event.data.workspaceId);
      if (workspace !== undefined) {
        state.replaceWorkspace(workspace, {
          ...workspace,
          name: event.data.name,
          nameKey: resourceNameKey(event.data.name),
        });
      }
      return state;
    }
    case 'WorkspaceMoved': {
      const workspace = findLiveWorkspace(state, event.data.workspaceId);
      const parent = findLiveWorkspace(state, event.data.toParentWorkspaceId);
      // Tolerant, like the rest: a move that would not fit (or would close a loop) is left out.
      if (
        workspace !== undefined &&
        parent !== undefined &&
        !workspace.isRoot &&
        workspace.parentWorkspaceId !== parent.workspaceId &&
        !isSelfOrAncestor(workspace, parent)
      ) {
        state.moveWorkspace(workspace, parent);
      }
      return state;
    }
    case 'WorkspaceDeletionStarted': {
      const workspace = state.workspaces.get(event.data.workspaceId);
      if (workspace?.status === 'live')
        state.replaceWorkspace(workspace, { ...workspace, status: 'deleting' });
      return state;
    }
    case 'WorkspaceDeleted': {
      const workspace = findLiveWorkspace(state, event.data.workspaceId);
      if (workspace !== undefined) state.replaceWorkspace(workspace, { ...workspace, status: 'deleted' });
      // RoleRevoked events came first; histories older than grants hold only keys' roles here.
      state.membership.removeGrantsOn(event.data.workspaceId);
      return state;
    }
    case 'TenantDeletionStarted':
      if (state.status === 'active' || state.status === 'suspended') {
        state.status = 'deleting';
        state.suspensionReason = undefined;
      }
      return state;
    case 'TenantDeleted':
      if (state.status !== 'none') state.status = 'deleted';
      // Its members, groups and grants end with it.
      state.membership.clear();
      return state;
    case 'ApiKeyIssued':
      if (!state.apiKeys.has(event.data.apiKeyId)) {
        const { apiKeyId, role, workspaceId, name, secretHash, issuedAt } = event.data;
        state.addApiKey({ apiKeyId, role, workspaceId, name, secretHash, issuedAt, status: 'active' });
        evolveApiKeyIssued(state.membership, event, canonicalIdIn(state));
      }
      return state;
    case 'ApiKeyRevoked': {
      const key = state.apiKeys.get(event.data.apiKeyId);
      if (key !== undefined) state.revokeApiKey(key);
      state.membership.removeGrantsOf('apiKey', event.data.apiKeyId);
      return state;
    }
    case 'MemberAdded':
    case 'MemberUpdated':
    case 'MemberRemoved':
    case 'GroupCreated':
    case 'GroupRenamed':
    case 'GroupDeleted':
    case 'GroupMemberAdded':
    case 'GroupMemberRemoved':
    case 'RoleGranted':
    case 'RoleRevoked':
      if (state.status === 'active' || state.status === 'suspended' || state.status === 'deleting') {
        evolveMembership(state.membership, event, canonicalIdIn(state));
        if (isInitialAdminGrant(state, event)) state.initialAdminUserId = event.data.principal.id;
      }
      return state;
    case 'PersonalDataErased':
      // Also after the tenant is gone: a person's erasure outlasts the tenant.
      if (state.status !== 'none') evolveMembership(state.membership, event, canonicalIdIn(state));
      return state;
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
}

/** Whether `workspace` is `other` or one of its ancestors: O(depth), following the lineage. */
function isSelfOrAncestor(workspace: WorkspaceState, other: WorkspaceState): boolean {
  for (let link: WorkspaceLineage | null = other.lineage; link !== null; link = link.parent) {
    if (link.workspaceId === workspace.workspaceId) return true;
  }
  return false;
}

/**
 * The grant a create with adminUserId makes: its id is derived from the tenant's and no other
 * command grants under it (grants get random ids), so it names the admin the tenant was created with.
 */
function isInitialAdminGrant(
  state: MutableTenantState,
  event: TenancyEvent,
): event is Extract<TenancyEvent, { type: 'RoleGranted' }> {
  return (
    event.type === 'RoleGranted' &&
    state.initialAdminUserId === null &&
    state.tenantId !== undefined &&
    event.data.grantId === initialAdminGrantIdOf(state.tenantId) &&
    event.data.principal.type === 'user'
  );
}

function canonicalIdIn(state: TenantState): (workspaceId: string) => string {
  return (workspaceId) => state.workspaces.get(workspaceId)?.workspaceId ?? workspaceId;
}

function applyWorkspaceCreated(state: MutableTenantState, event: WorkspaceCreated): void {
  const { workspaceId, parentWorkspaceId, name, isRoot } = event.data;
  if (state.workspaces.has(workspaceId)) return;
  let depth = 0;
  if (isRoot) {
    if (state.rootWorkspaceId !== undefined) return;
  } else {
    const parent = parentWorkspaceId === null ? undefined : findLiveWorkspace(state, parentWorkspaceId);
    // An orphan would be unreachable by the cascade and keep the tenant from ever finishing its deletion.
    if (parent === undefined) return;
    depth = parent.depth + 1;
  }
  state.addWorkspace({
    workspaceId,
    parentWorkspaceId: isRoot ? null : parentWorkspaceId,
    name,
    nameKey: resourceNameKey(name),
    isRoot,
    depth,
    status: 'live',
  });
}

/**
 * Decides what a command changes: the events to append, [] when it changes nothing (a repeat), or a
 * TenancyRuleViolation. Deterministic, never mutates the state, and costs O(depth + batch): it never
 * iterates over all workspaces (a move deeper down walks the moved subtree once, for the depth quota).
 *
 * `quotaDefaults` are the limits of tenants that set none of their own (the service's configuration).
 */
export function decide(
  command: TenancyCommand,
  state: TenantState,
  quotaDefaults: Quotas = BUILT_IN_QUOTA_DEFAULTS,
): TenancyEvent[] {
  if (state.status !== 'none' && state.tenantId !== command.tenantId) {
    // The application loaded the wrong stream: a bug, not a rule the client could have broken.
    throw new Error(
      `command for tenant ${command.tenantId} decided on the state of tenant ${state.tenantId}`,
    );
  }
  const quotas = effectiveQuotas(state.quotaOverrides, quotaDefaults);
  switch (command.type) {
    case 'CreateTenant':
      return createTenant(command, state);
    case 'SuspendTenant':
      return suspendTenant(command, state);
    case 'ReactivateTenant':
      return reactivateTenant(command, state);
    case 'RenameTenant':
      return renameTenant(command, state);
    case 'SetTenantQuotas':
      return setTenantQuotas(command, state);
    case 'BootstrapRootWorkspace':
      return bootstrapRootWorkspace(command, state);
    case 'CreateWorkspace':
      return createWorkspace(command, state, quotas);
    case 'RenameWorkspace':
      return renameWorkspace(command, state);
    case 'MoveWorkspace':
      return moveWorkspace(command, state, quotas);
    case 'DeleteWorkspace':
      return deleteWorkspace(command, state);
    case 'DeleteTenant':
      return deleteTenant(command, state);
    case 'ContinueDeletion':
      return continueDeletion(command, state);
    case 'IssueApiKey':
      return issueApiKey(command, state, quotas);
    case 'RevokeApiKey':
      return revokeApiKey(command, state);
    case 'AddMember':
    case 'RemoveMember':
    case 'CreateGroup':
    case 'RenameGroup':
    case 'DeleteGroup':
    case 'AddGroupMember':
    case 'RemoveGroupMember':
    case 'GrantRole':
    case 'RevokeRole':
    case 'ErasePersonalData':
      return decideMembership(command, state, quotas);
    default: {
      const _exhaustive: never = command;
      throw new Error(`unknown tenancy command ${String((command as { type?: unknown }).type)}`);
    }
  }
}

/**
 * The revision a tenant's creation ended at, as createTenant below appends it: TenantCreated alone
 * (0), or with an admin its MemberAdded and RoleGranted too (2). A repeated create answers it.
 */
export function creationEndRevision(state: TenantState): number {
  return state.initialAdminUserId ? 2 : 0;
}

function createTenant(command: CreateTenant, state: TenantState): TenancyEvent[] {
  if (!isCanonicalUuid(command.tenantId)) {
    throw invalidField('tenantId', 'must be a lowercase UUID');
  }
  const name = parseResourceName(command.name);
  const adminUserId =
    command.adminUserId === undefined ? undefined : parseNewUserId(command.adminUserId, 'adminUserId');
  switch (state.status) {
    case 'none': {
      const { tenantId } = command;
      const nameReservation =
        command.nameReservation === undefined
          ? {}
          : { nameReservation: requireRevision(command.nameReservation, 'nameReservation') };
      const created: TenancyEvent = {
        type: 'TenantCreated',
        data: { tenantId, name: name.display, ...nameReservation },
      };
      if (adminUserId === undefined) return [created];
      return [
        created,
        { type: 'MemberAdded', data: { tenantId, userId: adminUserId, displayName: null } },
        {
          type: 'RoleGranted',
          data: {
            tenantId,
            grantId: initialAdminGrantIdOf(tenantId),
            principal: { type: 'user', id: adminUserId },
            role: 'admin',
            workspaceId: null,
          },
        },
      ];
    }
    case 'active':
    case 'suspended':
      // A repeat only when it asks for everything the first create did: the name and the admin.
      if (state.nameKey !== name.key) {
        throw new TenancyRuleViolation(
          'TENANT_ALREADY_EXISTS',
          `tenant ${command.tenantId} already exists with another name`,
        );
      }
      if ((adminUserId ?? null) !== state.initialAdminUserId) {
        throw new TenancyRuleViolation(
          'TENANT_ALREADY_EXISTS',
          state.initialAdminUserId === null
            ? `tenant ${command.tenantId} already exists, created without an admin user`
            : `tenant ${command.tenantId} already exists, created with another admin user`,
        );
      }
      return [];
    case 'deleting':
    case 'deleted':
      throw new TenancyRuleViolation(
        'TENANT_ALREADY_EXISTS',
        `tenant ${command.tenantId} existed and was deleted; tenant ids are never reused`,
      );
    default: {
      const _exhaustive: never = state.status;
      throw new Error('unreachable');
    }
  }
}

function bootstrapRootWorkspace(command: BootstrapRootWorkspace, state: TenantState): TenancyEvent[] {
  switch (state.status) {
    case 'none':
      throw tenantNotFound(command.tenantId);
    case 'deleting':
    case 'deleted':
      return [];
    case 'active':
    case 'suspended':
      // The root completes the tenant's creation; a suspension does not leave a tenant half made.
      return state.rootWorkspaceId === undefined ? [rootWorkspaceCreated(command.tenantId)] : [];
    default: {
      const _exhaustive: never = state.status;
      throw new Error('unreachable');
    }
  }
}

function createWorkspace(command: CreateWorkspace, state: TenantState, quotas: Quotas): TenancyEvent[] {
  const { tenantId, workspaceId } = command;
  requireActiveTenant(state, tenantId);
  if (!isCanonicalUuid(workspaceId)) {
    throw invalidField('workspaceId', 'must be a lowercase UUID');
  }
  const name = parseResourceName(command.name);
  const rootId = rootWorkspaceIdOf(tenantId);
  if (workspaceId === rootId) {
    throw new TenancyRuleViolation(
      'WORKSPACE_ID_TAKEN',
      `workspace ${workspaceId} is the tenant's root workspace`,
    );
  }
  const parentId = command.parentWorkspaceId ?? rootId;

  const existing = state.workspaces.get(workspaceId);
  if (existing !== undefined) {
    if (
      existing.status !== 'deleted' &&
      existing.parentWorkspaceId === parentId &&
      existing.nameKey === name.key
    ) {
      return [];
    }
    throw new TenancyRuleViolation(
      'WORKSPACE_ID_TAKEN',
      existing.status === 'deleted'
        ? `workspace ${workspaceId} was deleted; workspace ids are never reused`
        : `workspace ${workspaceId} already exists with another parent or name`,
    );
  }

  // Root bootstrap is asynchronous: a client may create a workspace before it has happened.
  const events: TenancyEvent[] = [];
  if (isRootStillToCome(state, parentId)) {
    events.push(rootWorkspaceCreated(tenantId));
  } else {
    const parent = requireWorkspaceOpenToChange(state, parentId);
    if (state.liveChildNamed(parentId, name.key) !== undefined) {
      throw new TenancyRuleViolation(
        'WORKSPACE_NAME_TAKEN',
        `workspace ${parentId} already has a child named '${name.display}'`,
      );
    }
    requireWithinQuota('maxDepth', quotas.maxDepth, parent.depth + 1, parent.depth + 1);
  }
  const count = state.liveWorkspaceCount;
  requireWithinQuota('maxWorkspaces', quotas.maxWorkspaces, count, count + events.length + 1);
  events.push({
    type: 'WorkspaceCreated',
    data: { tenantId, workspaceId, parentWorkspaceId: parentId, name: name.display, isRoot: false },
  });
  return events;
}

function renameWorkspace(command: RenameWorkspace, state: TenantState): TenancyEvent[] {
  requireActiveTenant(state, command.tenantId);
  const name = parseResourceName(command.name);
  const workspace = findLiveWorkspace(state, command.workspaceId);
  if (workspace === undefined) throw workspaceNotFound(command.workspaceId);
  const deleting = deletingAncestorOrSelf(state, workspace);
  if (deleting !== undefined) throw workspaceDeleting(deleting.workspaceId);
  if (workspace.name === name.display) return [];
  if (workspace.parentWorkspaceId !== null) {
    const holder = state.liveChildNamed(workspace.parentWorkspaceId, name.key);
    // The workspace itself holding the key is a change of case only, which is allowed.
    if (holder !== undefined && holder !== workspace.workspaceId) {
      throw new TenancyRuleViolation(
        'WORKSPACE_NAME_TAKEN',
        `workspace ${workspace.parentWorkspaceId} already has a child named '${name.display}'`,
      );
    }
  }
  return [
    {
      type: 'WorkspaceRenamed',
      data: { tenantId: command.tenantId, workspaceId: workspace.workspaceId, name: name.display },
    },
  ];
}

function deleteWorkspace(command: DeleteWorkspace, state: TenantState): TenancyEvent[] {
  requireActiveTenant(state, command.tenantId);
  // Deleted answers "not found" rather than nothing-to-do: the API promises 404 for a deleted workspace.
  const workspace = findLiveWorkspace(state, command.workspaceId);
  if (workspace === undefined) throw workspaceNotFound(command.workspaceId);
  if (workspace.isRoot) {
    throw new TenancyRuleViolation(
      'ROOT_WORKSPACE_UNDELETABLE',
      'the root workspace goes only with its tenant; delete the tenant instead',
    );
  }
  // Already inside a cascade (its own or an ancestor's): the process manager will delete it anyway.
  if (deletingAncestorOrSelf(state, workspace) !== undefined) return [];
  if (command.cascade) {
    return [
      {
        type: 'WorkspaceDeletionStarted',
        data: { tenantId: command.tenantId, workspaceId: workspace.workspaceId },
      },
    ];
  }
  if (state.liveChildren(workspace.workspaceId).size > 0) {
    throw new TenancyRuleViolation(
      'WORKSPACE_HAS_CHILDREN',
      `workspace ${workspace.workspaceId} has live children; delete them first or ask for a cascade`,
    );
  }
  return new WorkspaceEnds(state, command.tenantId).of(workspace, 'requested');
}

function deleteTenant(command: DeleteTenant, state: TenantState): TenancyEvent[] {
  switch (state.status) {
    case 'none':
    case 'deleted':
      throw tenantNotFound(command.tenantId);
    case 'deleting':
      return [];
    case 'active':
    case 'suspended':
      return [{ type: 'TenantDeletionStarted', data: { tenantId: command.tenantId } }];
    default: {
      const _exhaustive: never = state.status;
      throw new Error('unreachable');
    }
  }
}

/**
 * The next batch of a cascade, children first. Each call walks down from the cascade tops with an
 * explicit stack (trees can be deeper than the call stack) and stops at maxBatch; because earlier
 * batches are already folded out of liveChildren, a call costs O(maxBatch + depth), not O(subtree).
 * Order is deterministic: cascade tops oldest first, children in creation order.
 */
function continueDeletion(command: ContinueDeletion, state: TenantState): TenancyEvent[] {
  const { tenantId, maxBatch } = command;
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) {
    throw invalidField('maxBatch', 'must be a positive integer');
  }
  switch (state.status) {
    case 'none':
      throw tenantNotFound(tenantId);
    case 'deleted':
      return [];
    case 'deleting': {
      const batch = new PostOrderDeletionBatch(state, tenantId, maxBatch);
      if (state.rootWorkspaceId !== undefined) batch.deleteSubtree(state.rootWorkspaceId, 'tenant-deleted');
      if (!batch.isFull() && batch.deletedCount() === state.liveWorkspaceCount) {
        return [...batch.events, { type: 'TenantDeleted', data: { tenantId } }];
      }
      return batch.events;
    }
    case 'active':
    case 'suspended': {
      // A cascade accepted before the suspension runs to its end: it only removes.
      const batch = new PostOrderDeletionBatch(state, tenantId, maxBatch);
      for (const top of state.deletionTops) {
        if (batch.isFull()) break;
        batch.deleteSubtree(top, 'cascade');
      }
      return batch.events;
    }
    default: {
      const _exhaustive: never = state.status;
      throw new Error('unreachable');
    }
  }
}

/**
 * Up to maxBatch workspace deletions, each preceded by the RoleRevoked events of the grants on that
 * workspace: a consumer never sees a grant on a workspace that is gone.
 */
class PostOrderDeletionBatch {
  readonly events: WorkspaceEndEvent[] = [];
  private readonly ends: WorkspaceEnds;
  // Deleted in this batch but still live in the state: a later cascade top may contain an earlier one.
  private readonly deleted = new Set<string>();

  constructor(
    private readonly state: TenantState,
    private readonly tenantId: string,
    private readonly maxBatch: number,
  ) {
    this.ends = new WorkspaceEnds(state, tenantId);
  }

  isFull(): boolean {
    return this.deleted.size >= this.maxBatch;
  }

  deletedCount(): number {
    return this.deleted.size;
  }

  deleteSubtree(topId: string, reason: WorkspaceDeletionReason): void {
    if (this.deleted.has(topId) || findLiveWorkspace(this.state, topId) === undefined) return;
    const stack: { readonly workspaceId: string; readonly children: Iterator<string> }[] = [
      { workspaceId: topId, children: this.state.liveChildren(topId).values() },
    ];
    while (!this.isFull()) {
      const frame = stack.at(-1);
      if (frame === undefined) return;
      const child = this.nextPendingChild(frame.children);
      if (child !== undefined) {
        stack.push({ workspaceId: child, children: this.state.liveChildren(child).values() });
        continue;
      }
      stack.pop();
      const workspace = this.state.workspaces.get(frame.workspaceId);
      if (workspace === undefined) continue;
      this.events.push(...this.ends.of(workspace, reason));
      this.deleted.add(workspace.workspaceId);
    }
  }

  private nextPendingChild(children: Iterator<string>): string | undefined {
    for (let next = children.next(); next.done !== true; next = children.next()) {
      if (!this.deleted.has(next.value)) return next.value;
    }
    return undefined;
  }
}

type WorkspaceEndEvent = RoleRevoked | ApiKeyRevoked | WorkspaceDeleted;

/**
 * What ends with a workspace, in this order: the grants on it; each active key scoped to it, after
 * that key's grants elsewhere (a key whose workspace is gone could never act again, and would keep a
 * place in the key quota); then the workspace. One instance serves one append, and remembers the
 * grants it has revoked, so that no grant is revoked twice when a subtree goes in one append.
 */
class WorkspaceEnds {
  private readonly revokedGrants = new Set<string>();
  private keysByScope: Map<string, string[]> | undefined;

  constructor(
    private readonly state: TenantState,
    private readonly tenantId: string,
  ) {}

  of(workspace: WorkspaceState, reason: WorkspaceDeletionReason): WorkspaceEndEvent[] {
    const { workspaceId } = workspace;
    const events: WorkspaceEndEvent[] = this.unrevoked(
      revocationsOnWorkspace(this.state, this.tenantId, workspaceId),
    );
    for (const apiKeyId of this.keysScopedTo(workspaceId)) {
      events.push(...this.unrevoked(revocationsOfApiKey(this.state, this.tenantId, apiKeyId)));
      events.push({ type: 'ApiKeyRevoked', data: { tenantId: this.tenantId, apiKeyId } });
    }
    events.push(workspaceDeleted(this.tenantId, workspace, reason));
    return events;
  }

  private unrevoked(revocations: RoleRevoked[]): RoleRevoked[] {
    const fresh = revocations.filter((revocation) => !this.revokedGrants.has(revocation.data.grantId));
    for (const revocation of fresh) this.revokedGrants.add(revocation.data.grantId);
    return fresh;
  }

  private keysScopedTo(workspaceId: string): readonly string[] {
    if (this.keysByScope === undefined) {
      this.keysByScope = new Map();
      for (const key of this.state.apiKeys.values()) {
        if (key.status !== 'active' || key.workspaceId === null) continue;
        const keys = this.keysByScope.get(key.workspaceId) ?? [];
        keys.push(key.apiKeyId);
        this.keysByScope.set(key.workspaceId, keys);
      }
    }
    return this.keysByScope.get(workspaceId) ?? [];
  }
}

function workspaceDeleted(
  tenantId: string,
  workspace: WorkspaceState,
  reason: WorkspaceDeletionReason,
): WorkspaceDeleted {
  return {
    type: 'WorkspaceDeleted',
    data: {
      tenantId,
      workspaceId: workspace.workspaceId,
      parentWorkspaceId: workspace.parentWorkspaceId,
      isRoot: workspace.isRoot,
      reason,
    },
  };
}

function issueApiKey(command: IssueApiKey, state: TenantState, quotas: Quotas): TenancyEvent[] {
  const { tenantId, apiKeyId, role, secretHash, issuedAt } = command;
  requireActiveTenant(state, tenantId);
  if (!isCanonicalUuid(apiKeyId)) {
    throw invalidField('apiKeyId', 'must be a lowercase UUID');
  }
  if (role !== 'admin' && role !== 'reader') {
    throw invalidField('role', "must be 'admin' or 'reader'");
  }
  if (typeof secretHash !== 'string' || !SECRET_HASH.test(secretHash)) {
    throw invalidField('secretHash', "must be 'sha256:' and 64 hex digits");
  }
  if (typeof issuedAt !== 'string' || !ISO_INSTANT.test(issuedAt) || Number.isNaN(Date.parse(issuedAt))) {
    throw invalidField('issuedAt', 'must be an ISO 8601 UTC instant');
  }
  const name =
    command.name === undefined || command.name === null ? null : parseResourceName(command.name).display;
  const workspaceId = command.workspaceId ?? null;
  let rootFirst: TenancyEvent[] = [];
  if (workspaceId !== null) {
    if (!isCanonicalUuid(workspaceId)) {
      throw invalidField('workspaceId', 'must be a lowercase UUID');
    }
    rootFirst = workspaceReadyForChange(state, tenantId, workspaceId);
  }

  const existing = state.apiKeys.get(apiKeyId);
  if (existing !== undefined) {
    const sameKey =
      existing.status === 'active' &&
      existing.role === role &&
      existing.workspaceId === workspaceId &&
      existing.name === name &&
      existing.secretHash === secretHash;
    if (sameKey) return [];
    throw new TenancyRuleViolation(
      'API_KEY_ID_TAKEN',
      existing.status === 'revoked'
        ? `api key ${apiKeyId} was revoked; key ids are never reused`
        : `api key ${apiKeyId} already exists with another role, scope, name or secret`,
    );
  }
  if (state.activeApiKeyCount >= MAX_ACTIVE_API_KEYS) {
    throw new TenancyRuleViolation(
      'API_KEY_LIMIT_REACHED',
      `a tenant holds at most ${MAX_ACTIVE_API_KEYS} active keys; revoke one first`,
      { limit: MAX_ACTIVE_API_KEYS, current: state.activeApiKeyCount },
    );
  }
  const keys = state.activeApiKeyCount;
  requireWithinQuota('maxApiKeys', quotas.maxApiKeys, keys, keys + 1);
  return [
    ...rootFirst,
    { type: 'ApiKeyIssued', data: { tenantId, apiKeyId, role, workspaceId, name, secretHash, issuedAt } },
  ];
}

function revokeApiKey(command: RevokeApiKey, state: TenantState): TenancyEvent[] {
  // Taking a key away is accepted while the tenant is suspended: a suspension is often the answer to
  // a leaked key, and a suspended tenant's keys still read.
  if (state.status !== 'suspended') requireActiveTenant(state, command.tenantId);
  const key = state.apiKeys.get(command.apiKeyId);
  if (key === undefined) {
    throw new TenancyRuleViolation('API_KEY_NOT_FOUND', `No API key ${command.apiKeyId}.`);
  }
  if (key.status === 'revoked') return [];
  return [
    ...revocationsOfApiKey(state, command.tenantId, key.apiKeyId),
    { type: 'ApiKeyRevoked', data: { tenantId: command.tenantId, apiKeyId: key.apiKeyId } },
  ];
}

function suspendTenant(command: SuspendTenant, state: TenantState): TenancyEvent[] {
  const { tenantId } = command;
  switch (state.status) {
    case 'none':
    case 'deleted':
      throw tenantNotFound(tenantId);
    case 'deleting':
      throw new TenancyRuleViolation('TENANT_DELETING', `tenant ${tenantId} is being deleted`);
    case 'suspended':
      return [];
    case 'active':
      return [{ type: 'TenantSuspended', data: { tenantId, reason: parseSuspensionReason(command.reason) } }];
    default: {
      const _exhaustive: never = state.status;
      throw new Error('unreachable');
    }
  }
}

function reactivateTenant(command: ReactivateTenant, state: TenantState): TenancyEvent[] {
  const { tenantId } = command;
  switch (state.status) {
    case 'none':
    case 'deleted':
      throw tenantNotFound(tenantId);
    case 'deleting':
      throw new TenancyRuleViolation('TENANT_DELETING', `tenant ${tenantId} is being deleted`);
    case 'active':
      return [];
    case 'suspended':
      return [{ type: 'TenantReactivated', data: { tenantId } }];
    default: {
      const _exhaustive: never = state.status;
      throw new Error('unreachable');
    }
  }
}

function renameTenant(command: RenameTenant, state: TenantState): TenancyEvent[] {
  const { tenantId } = command;
  requireActiveTenant(state, tenantId);
  const name = parseResourceName(command.name);
  if (state.name === name.display) return [];
  let nameReservation: number | null;
  if (command.nameReservation === undefined) {
    // Only a change of case may keep the reservation the tenant holds: any other name needs its own.
    if (state.nameKey !== name.key) {
      throw new TenancyRuleViolation('VALIDATION_FAILED', 'a new tenant name needs its reservation');
    }
    nameReservation = state.nameReservation ?? null;
  } else {
    nameReservation = requireRevision(command.nameReservation, 'nameReservation');
  }
  return [
    {
      type: 'TenantRenamed',
      data: {
        tenantId,
        name: name.display,
        previousName: state.name ?? '',
        nameReservation,
        previousNameReservation: state.nameReservation ?? null,
      },
    },
  ];
}

function setTenantQuotas(command: SetTenantQuotas, state: TenantState): TenancyEvent[] {
  requireActiveTenant(state, command.tenantId);
  if (typeof command.quotas !== 'object' || command.quotas === null) {
    throw invalidField('quotas', 'must be an object');
  }
  const quotas = parseQuotaOverrides(command.quotas);
  if (sameOverrides(quotas, state.quotaOverrides)) return [];
  return [{ type: 'TenantQuotasSet', data: { tenantId: command.tenantId, quotas } }];
}

function moveWorkspace(command: MoveWorkspace, state: TenantState, quotas: Quotas): TenancyEvent[] {
  const { tenantId } = command;
  requireActiveTenant(state, tenantId);
  for (const [field, id] of [
    ['workspaceId', command.workspaceId],
    ['parentWorkspaceId', command.parentWorkspaceId],
  ] as const) {
    if (!isCanonicalUuid(id)) throw invalidField(field, 'must be a lowercase UUID');
  }
  const workspace = findLiveWorkspace(state, command.workspaceId);
  if (workspace === undefined) throw workspaceNotFound(command.workspaceId);
  if (workspace.isRoot) {
    throw new TenancyRuleViolation(
      'ROOT_WORKSPACE_IMMOVABLE',
      'the root workspace has no parent and stays where it is',
    );
  }
  const deletingHere = deletingAncestorOrSelf(state, workspace);
  if (deletingHere !== undefined) throw workspaceDeleting(deletingHere.workspaceId);
  const parent = findLiveWorkspace(state, command.parentWorkspaceId);
  if (parent === undefined) throw workspaceNotFound(command.parentWorkspaceId);
  const deletingThere = deletingAncestorOrSelf(state, parent);
  if (deletingThere !== undefined) throw workspaceDeleting(deletingThere.workspaceId);
  if (workspace.parentWorkspaceId === parent.workspaceId) return [];
  if (isSelfOrAncestor(workspace, parent)) {
    throw new TenancyRuleViolation(
      'WORKSPACE_MOVE_CYCLE',
      `workspace ${parent.workspaceId} lies in the subtree of workspace ${workspace.workspaceId}`,
    );
  }
  if (state.liveChildNamed(parent.workspaceId, workspace.nameKey) !== undefined) {
    throw new TenancyRuleViolation(
      'WORKSPACE_NAME_TAKEN',
      `workspace ${parent.workspaceId} already has a child named '${workspace.name}'`,
    );
  }
  const newDepth = parent.depth + 1;
  // Moving up or across never deepens anything: only a move further down walks the subtree.
  if (newDepth > workspace.depth) {
    const deepest = newDepth + subtreeHeight(state, workspace);
    requireWithinQuota('maxDepth', quotas.maxDepth, deepest, deepest);
  }
  return [
    {
      type: 'WorkspaceMoved',
      data: {
        tenantId,
        workspaceId: workspace.workspaceId,
        fromParentWorkspaceId: workspace.parentWorkspaceId ?? '',
        toParentWorkspaceId: parent.workspaceId,
      },
    },
  ];
}

/** How far below the workspace its deepest live descendant lies (0 for a leaf). O(subtree). */
function subtreeHeight(state: TenantState, top: WorkspaceState): number {
  let deepest = top.depth;
  const stack = [top.workspaceId];
  while (stack.length > 0) {
    for (const child of state.liveChildren(stack.pop()!)) {
      const workspace = state.workspaces.get(child);
      if (workspace === undefined) continue;
      if (workspace.depth > deepest) deepest = workspace.depth;
      stack.push(child);
    }
  }
  return deepest - top.depth;
}

function parseSuspensionReason(raw: unknown): string {
  if (typeof raw !== 'string') throw invalidField('reason', 'must be a string');
  requireDisplayLine(raw, 'reason');
  const reason = raw.trim().normalize('NFC');
  const length = [...reason].length;
  if (length < 1 || length > MAX_SUSPENSION_REASON_LENGTH) {
    throw invalidField(
      'reason',
      `must be 1 to ${MAX_SUSPENSION_REASON_LENGTH} characters long after trimming`,
    );
  }
  return reason;
}

function requireRevision(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw invalidField(field, 'must be a stream revision');
  }
  return value as number;
}

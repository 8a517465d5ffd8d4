import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore, type Position } from '../../event-store/event-store.port.js';
import { TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';
import type { PrincipalRef, Role } from '../../tenancy/membership.events.js';
import { principalKey } from '../../tenancy/membership.state.js';
import {
  accessAt,
  checkPermission,
  comparePrincipals,
  effectiveRole,
  firstWorkspacesUnder,
  PERMISSIONS,
  reachableTops,
  workspacesUnder,
  type AccessEntry,
  type CheckAnswer,
  type GrantPath,
  type Permission,
} from '../../tenancy/permissions.js';
import { findLiveWorkspace, type TenantState, type WorkspaceState } from '../../tenancy/tenant.state.js';
import { TenantCommandExecutor, type TenantSnapshot } from '../commands/tenant-command.executor.js';
import { TenantStateFollower } from '../commands/tenant-state.follower.js';
import { requireWrittenPosition } from '../queries/written-position.js';
import {
  decodeOrdinalCursor,
  decodePrincipalCursor,
  encodeOrdinalCursor,
  encodePrincipalCursor,
} from './page-cursor.js';

export interface CheckRequest {
  readonly principal: PrincipalRef;
  readonly permission: Permission;
  /** null: on the tenant as a whole. */
  readonly workspaceId: string | null;
}

/** One answer of a batch: the check's answer, or the refusal a single check would have met. */
export type CheckResult = CheckAnswer | { readonly allowed: false; readonly code: 'WORKSPACE_NOT_FOUND' };

export interface QueryOptions {
  /** Answer only from a state that includes this log position (read your writes). */
  readonly minPosition?: Position;
  /** A workspace-scoped caller: only this workspace's subtree exists for it. */
  readonly subtree?: string;
}

/** Where an answer was taken: the tenant as of this revision and log position. */
export interface AnsweredAt {
  readonly revision: number | null;
  readonly position: Position | null;
}

export interface CheckOutcome extends AnsweredAt {
  readonly results: readonly CheckResult[];
}

export interface ReachableWorkspace {
  readonly workspaceId: string;
  readonly parentWorkspaceId: string | null;
  readonly name: string;
  readonly depth: number;
  readonly role: Role;
  readonly via: GrantPath;
}

export interface Page<Item> extends AnsweredAt {
  readonly items: readonly Item[];
  readonly nextCursor: string | null;
}

/** Sorted reachable lists kept for the next pages of the same lookup. */
const CACHED_LOOKUPS = 64;

/**
 * Permission checks and lookups, answered from the folded tenant state (the same fold the commands
 * are decided on), never from the read models: no lag behind a write of this instance, and no
 * database round trip per check. The state is the command executor's cached one, which the log
 * follower keeps current with other instances' writes; a check that carries a Min-Position the
 * follower has not yet passed first catches the tenant up with one indexed read of its stream, so
 * it always sees that write.
 */
/** One check on a state, as the caller may see it: outside its subtree, no workspace exists. */
function answerCheck(state: TenantState, request: CheckRequest, subtree: string | undefined): CheckResult {
  if (subtree !== undefined && !isWithin(state, request.workspaceId, subtree)) {
    throw new TenancyRuleViolation(
      'WORKSPACE_NOT_FOUND',
      request.workspaceId === null ? 'No such workspace.' : `No workspace ${request.workspaceId}.`,
    );
  }
  return checkPermission(state, request.principal, request.permission, request.workspaceId);
}

@Injectable()
export class PermissionQueries {
  private readonly lookups = new Map<string, readonly WorkspaceState[]>();

  constructor(
    private readonly tenants: TenantCommandExecutor,
    private readonly follower: TenantStateFollower,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /**
   * A batch of checks, each answered on its own: a workspace that does not exist, or lies outside
   * a workspace-scoped caller's subtree, is that check's answer (not allowed, WORKSPACE_NOT_FOUND),
   * however many checks the batch holds.
   */
  async check(
    tenantId: string,
    requests: readonly CheckRequest[],
    options: QueryOptions = {},
  ): Promise<CheckOutcome> {
    const snapshot = await this.snapshot(tenantId, options.minPosition);
    const results = requests.map((request): CheckResult => {
      try {
        return answerCheck(snapshot.state, request, options.subtree);
      } catch (error) {
        if (error instanceof TenancyRuleViolation && error.code === 'WORKSPACE_NOT_FOUND')
          return { allowed: false, code: 'WORKSPACE_NOT_FOUND' };
        throw error;
      }
    });
    return { results, ...answeredAt(snapshot) };
  }

  /** A lone check: a workspace that does not exist (for this caller) refuses the request as a whole. */
  async checkOne(
    tenantId: string,
    request: CheckRequest,
    options: QueryOptions = {},
  ): Promise<CheckResult & AnsweredAt> {
    const snapshot = await this.snapshot(tenantId, options.minPosition);
    return { ...answerCheck(snapshot.state, request, options.subtree), ...answeredAt(snapshot) };
  }

  /** The workspaces on which the principal has the permission, in creation order, in keyset pages. */
  async workspacesOf(
    tenantId: string,
    principal: PrincipalRef,
    permission: Permission,
    limit: number,
    cursor: string | undefined,
    options: QueryOptions = {},
  ): Promise<Page<ReachableWorkspace>> {
    const listing = `principal-workspaces ${tenantId} ${principal.type}:${principal.id} ${permission} ${options.subtree ?? ''}`;
    const after = cursor === undefined ? -1 : decodeOrdinalCursor(cursor, listing);
    const snapshot = await this.snapshot(tenantId, options.minPosition);
    const { state } = snapshot;
    const rule = PERMISSIONS[permission];
    const tops = narrowTops(
      state,
      reachableTops(state, principal, rule.role, rule.tenantWide),
      options.subtree,
    );
    const shown: WorkspaceState[] = [];
    if (tops === 'all') {
      const ids = state.workspaceIdsInCreationOrder;
      for (let seq = after + 1; seq < ids.length && shown.length <= limit; seq++) {
        const workspace = findLiveWorkspace(state, ids[seq]!);
        if (workspace !== undefined) shown.push(workspace);
      }
    } else if (cursor === undefined) {
      // The first page needs only its own workspaces, not the whole reachable set in order.
      shown.push(...firstWorkspacesUnder(state, tops, limit + 1));
    } else {
      const reachable = this.reachable(tenantId, snapshot, principal, rule.role, tops);
      for (
        let index = firstAfter(reachable, after);
        index < reachable.length && shown.length <= limit;
        index++
      )
        shown.push(reachable[index]!);
    }
    const more = shown.length > limit;
    const page = more ? shown.slice(0, limit) : shown;
    const items = page.map((workspace): ReachableWorkspace => {
      const found = effectiveRole(state, principal, rule.tenantWide ? null : workspace.workspaceId);
      if (found === undefined) throw new Error(`no role of a reachable workspace ${workspace.workspaceId}`);
      const { workspaceId, parentWorkspaceId, name, depth } = workspace;
      return { workspaceId, parentWorkspaceId, name, depth, role: found.role, via: found.via };
    });
    return {
      items,
      nextCursor: more ? encodeOrdinalCursor(page[page.length - 1]!.seq, listing) : null,
      ...answeredAt(snapshot),
    };
  }

  /** Who holds which effective role on the workspace, and from which grant; keyset pages by principal. */
  async accessAt(
    tenantId: string,
    workspaceId: string,
    limit: number,
    cursor: string | undefined,
    options: QueryOptions = {},
  ): Promise<Page<AccessEntry>> {
    const listing = `access ${tenantId} ${workspaceId}`;
    const after = cursor === undefined ? undefined : decodePrincipalCursor(cursor, listing);
    const snapshot = await this.snapshot(tenantId, options.minPosition);
    const entries = accessAt(snapshot.state, workspaceId);
    const start =
      after === undefined ? 0 : entries.findIndex((entry) => comparePrincipals(entry.principal, after) > 0);
    const rest = start < 0 ? [] : entries.slice(start);
    const items = rest.slice(0, limit);
    const more = rest.length > limit;
    return {
      items,
      nextCursor: more ? encodePrincipalCursor(items[items.length - 1]!.principal, listing) : null,
      ...answeredAt(snapshot),
    };
  }

  private async snapshot(tenantId: string, minPosition: Position | undefined): Promise<TenantSnapshot> {
    const cached = this.tenants.cached(tenantId);
    const current =
      cached !== undefined &&
      this.follower.isLive() &&
      (minPosition === undefined ||
        this.follower.hasReached(minPosition) ||
        (cached.position !== undefined && cached.position >= minPosition));
    const snapshot = current ? cached : await this.tenants.read(tenantId);
    // The tenant's own stream is read to its end; a position still ahead of it is another tenant's
    // write (the answer holds every write to this one), or none at all.
    if (
      minPosition !== undefined &&
      !current &&
      (snapshot.position === undefined || snapshot.position < minPosition)
    )
      await requireWrittenPosition(this.store, minPosition);
    if (snapshot.state.status === 'none' || snapshot.state.status === 'deleted') {
      throw new TenancyRuleViolation('TENANT_NOT_FOUND', `No tenant ${tenantId}.`);
    }
    return snapshot;
  }

  private reachable(
    tenantId: string,
    snapshot: TenantSnapshot,
    principal: PrincipalRef,
    role: Role,
    tops: readonly string[],
  ): readonly WorkspaceState[] {
    const key = `${tenantId}|${snapshot.revision ?? -1}|${principalKey(principal.type, principal.id)}|${role}|${tops.join(',')}`;
    let list = this.lookups.get(key);
    if (list === undefined) {
      list = workspacesUnder(snapshot.state, tops);
      this.lookups.set(key, list);
      while (this.lookups.size > CACHED_LOOKUPS) this.lookups.delete(this.lookups.keys().next().value!);
    }
    return list;
  }
}

function answeredAt(snapshot: TenantSnapshot): AnsweredAt {
  return { revision: snapshot.revision ?? null, position: snapshot.position ?? null };
}

/** Whether the workspace (null: the tenant itself) lies in the subtree of `top`. O(depth). */
function isWithin(state: TenantState, workspaceId: string | null, top: string): boolean {
  let current = workspaceId === null ? undefined : findLiveWorkspace(state, workspaceId);
  while (current !== undefined) {
    if (current.workspaceId === top) return true;
    current =
      current.parentWorkspaceId === null ? undefined : state.workspaces.get(current.parentWorkspaceId);
  }
  return false;
}

/** A workspace-scoped caller sees only the part of the reachable subtrees inside its own. */
function narrowTops(
  state: TenantState,
  tops: 'all' | string[],
  subtree: string | undefined,
): 'all' | string[] {
  if (subtree === undefined) return tops;
  if (tops === 'all') return [subtree];
  if (tops.some((top) => isWithin(state, subtree, top))) return [subtree];
  return tops.filter((top) => isWithin(state, top, subtree));
}

/** The index of the first workspace created after `seq` (binary search: the list is in creation order). */
function firstAfter(list: readonly WorkspaceState[], seq: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list[middle]!.seq <= seq) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The folded state of one tenant stream, indexed so that deciding a command costs O(depth of the
 * workspace) or O(batch), never O(number of workspaces): a tenant may hold 100,000 workspaces.
 *
 * The state is MUTABLE under the hood: `evolve` applies an event in place and returns the same object,
 * because copying the indexes on every event would make folding a large tenant quadratic. The previous
 * state must not be used after evolve. Consumers see it read-only; only the decider's evolve changes it.
 *
 * Vocabulary: a workspace is "live" (in liveChildren, liveWorkspaceCount, findLiveWorkspace) until
 * its WorkspaceDeleted; its status is 'deleting' from its WorkspaceDeletionStarted on, and it keeps its
 * place (and its name) among its siblings until it is actually deleted.
 */

import { MutableMembershipState, type MembershipState } from './membership.state.js';
import { NO_QUOTA_OVERRIDES, type QuotaOverrides } from './quotas.js';

/** 'suspended' is 'active' closed to changes: everything exists, nothing may change but the status. */
export type TenantStatus = 'none' | 'active' | 'suspended' | 'deleting' | 'deleted';
export type WorkspaceStatus = 'live' | 'deleting' | 'deleted';

/** An immutable snapshot of one workspace: evolve replaces the entry rather than changing it. */
export interface WorkspaceState {
  readonly workspaceId: string;
  readonly parentWorkspaceId: string | null;
  readonly name: string;
  readonly nameKey: string;
  readonly isRoot: boolean;
  /** The root is at depth 0. */
  readonly depth: number;
  readonly status: WorkspaceStatus;
  /** Its place in the tenant's creation order (0 for the first workspace): a stable sort key. */
  readonly seq: number;
  /**
   * The workspace and its ancestors as a chain of links to the parent's, shared by all its
   * descendants: walking up follows pointers instead of looking each parent up by id; O(1) memory
   * per workspace. A move relinks the moved workspace's own link, so its whole subtree follows in
   * O(1).
   */
  readonly lineage: WorkspaceLineage;
}

export interface WorkspaceLineage {
  readonly workspaceId: string;
  /** null for the root. */
  readonly parent: WorkspaceLineage | null;
}

export type ApiKeyStatus = 'active' | 'revoked';

/** An immutable snapshot of one API key of the tenant (never its secret: only the digest). */
export interface ApiKeyState {
  readonly apiKeyId: string;
  readonly role: 'admin' | 'reader';
  readonly workspaceId: string | null;
  readonly name: string | null;
  readonly secretHash: string;
  readonly issuedAt: string;
  readonly status: ApiKeyStatus;
}

/** Read-only view of the folded tenant. The previous state must not be used after evolve. */
export interface TenantState {
  readonly status: TenantStatus;
  readonly tenantId: string | undefined;
  readonly name: string | undefined;
  readonly nameKey: string | undefined;
  /** The revision of the name reservation backing `name`, when the history records it. */
  readonly nameReservation: number | null | undefined;
  /**
   * The user the tenant was created with as its admin; null: created without one; undefined before
   * its TenantCreated. Kept after that user's grant or membership ends: it tells a repeat of the
   * create from another create of the same tenantId.
   */
  readonly initialAdminUserId: string | null | undefined;
  /** Why the tenant is suspended; undefined unless status is 'suspended'. */
  readonly suspensionReason: string | undefined;
  /** The tenant's own quotas (null: the configured default). */
  readonly quotaOverrides: QuotaOverrides;
  /** Set once the root's WorkspaceCreated has been applied. */
  readonly rootWorkspaceId: string | undefined;
  /** Every workspace ever created, deleted ones included, so that ids are never reused. */
  readonly workspaces: ReadonlyMap<string, WorkspaceState>;
  readonly liveWorkspaceCount: number;
  /**
   * Tops of the subtree cascades under way (status 'deleting'), oldest first. A top may lie inside
   * another one when the inner cascade was started first.
   */
  readonly deletionTops: ReadonlySet<string>;
  /** Every key ever issued, revoked ones included, in issue order, so that key ids are never reused. */
  readonly apiKeys: ReadonlyMap<string, ApiKeyState>;
  readonly activeApiKeyCount: number;
  /** Members, groups and grants (API keys' own roles included, see api-key-grants.ts). */
  readonly membership: MembershipState;
  /** Every workspace id ever created, in creation order: `workspaces.get(id).seq` is its index. */
  readonly workspaceIdsInCreationOrder: readonly string[];
  /**
   * True while every workspace was created after its parent, so creation order lists parents
   * before children; a move under a younger parent ends that for good.
   */
  readonly parentsPrecedeChildren: boolean;
  /** The not-yet-deleted children of a workspace, in the order they came under it; empty for an unknown id. */
  liveChildren(workspaceId: string): ReadonlySet<string>;
  /** The live child of `parentWorkspaceId` whose name has this key, if any. */
  liveChildNamed(parentWorkspaceId: string, nameKey: string): string | undefined;
}

export function findLiveWorkspace(state: TenantState, workspaceId: string): WorkspaceState | undefined {
  const workspace = state.workspaces.get(workspaceId);
  return workspace !== undefined && workspace.status !== 'deleted' ? workspace : undefined;
}

/**
 * The workspace itself or its nearest ancestor in status 'deleting', if any: such a workspace is
 * already being cascade-deleted. O(depth).
 */
export function deletingAncestorOrSelf(
  state: TenantState,
  workspace: WorkspaceState,
): WorkspaceState | undefined {
  let current: WorkspaceState | undefined = workspace;
  while (current !== undefined) {
    if (current.status === 'deleting') return current;
    current =
      current.parentWorkspaceId === null ? undefined : state.workspaces.get(current.parentWorkspaceId);
  }
  return undefined;
}

const NO_CHILDREN: ReadonlySet<string> = new Set();

/**
 * The only implementation of TenantState. Its mutators are meant for the decider's evolve alone;
 * everything else receives it typed as the read-only TenantState.
 */
interface MutableLineage {
  readonly workspaceId: string;
  parent: MutableLineage | null;
}

export class MutableTenantState implements TenantState {
  status: TenantStatus = 'none';
  tenantId: string | undefined = undefined;
  name: string | undefined = undefined;
  nameKey: string | undefined = undefined;
  nameReservation: number | null | undefined = undefined;
  initialAdminUserId: string | null | undefined = undefined;
  suspensionReason: string | undefined = undefined;
  quotaOverrides: QuotaOverrides = NO_QUOTA_OVERRIDES;
  parentsPrecedeChildren = true;
  rootWorkspaceId: string | undefined = undefined;
  liveWorkspaceCount = 0;
  activeApiKeyCount = 0;
  readonly workspaces = new Map<string, WorkspaceState>();
  readonly apiKeys = new Map<string, ApiKeyState>();
  readonly deletionTops = new Set<string>();
  readonly membership = new MutableMembershipState();
  readonly workspaceIdsInCreationOrder: string[] = [];
  // Allocated only for workspaces that have children: most workspaces in a large tenant are leaves.
  // A parent's only child is held as its id, a set only from the second on: in the benchmarks'
  // tenant of 100,000 workspaces most parents have one child, and their sets took 12 MiB.
  private readonly childrenByParent = new Map<string, string | Set<string>>();
  // The live children of a parent with several, by name key. An only child's name is its own
  // (liveChildNamed reads it there): dropping the maps of parents with one child saved 9.5 MiB or
  // more in that tenant.
  private readonly childByNameKeyByParent = new Map<string, Map<string, string>>();

  liveChildren(workspaceId: string): ReadonlySet<string> {
    const children = this.childrenByParent.get(workspaceId);
    return children === undefined
      ? NO_CHILDREN
      : typeof children === 'string'
        ? new OnlyChild(children)
        : children;
  }

  liveChildNamed(parentWorkspaceId: string, nameKey: string): string | undefined {
    const children = this.childrenByParent.get(parentWorkspaceId);
    if (typeof children === 'string')
      return this.workspaces.get(children)?.nameKey === nameKey ? children : undefined;
    return this.childByNameKeyByParent.get(parentWorkspaceId)?.get(nameKey);
  }

  addWorkspace(created: Omit<WorkspaceState, 'seq' | 'lineage'>): void {
    const parent =
      created.parentWorkspaceId === null ? undefined : this.workspaces.get(created.parentWorkspaceId);
    // Every field named in one fixed order (no spread): all workspaces share one hidden class, where
    // a spread of the decoded event's object gave each of them its own (about 330 bytes more each).
    // The parent's own copy of its id: the decoded event's copy would be one more string per
    // workspace with a parent (about 5 MiB for 100,000 workspaces).
    const workspace: WorkspaceState = {
      workspaceId: created.workspaceId,
      parentWorkspaceId: parent?.workspaceId ?? created.parentWorkspaceId,
      name: created.name,
      nameKey: created.nameKey,
      isRoot: created.isRoot,
      depth: created.depth,
      status: created.status,
      seq: this.workspaceIdsInCreationOrder.length,
      lineage: { workspaceId: created.workspaceId, parent: parent?.lineage ?? null },
    };
    this.workspaceIdsInCreationOrder.push(workspace.workspaceId);
    this.workspaces.set(workspace.workspaceId, workspace);
    this.liveWorkspaceCount += 1;
    if (workspace.isRoot) this.rootWorkspaceId = workspace.workspaceId;
    this.attach(workspace);
  }

  replaceWorkspace(previous: WorkspaceState, next: WorkspaceState): void {
    this.workspaces.set(next.workspaceId, next);
    if (previous.nameKey !== next.nameKey) {
      this.detachName(previous);
      this.attachName(next);
    }
    if (next.status === 'deleting') this.deletionTops.add(next.workspaceId);
    if (next.status === 'deleted') {
      this.liveWorkspaceCount -= 1;
      this.deletionTops.delete(next.workspaceId);
      this.childrenByParent.delete(next.workspaceId);
      this.childByNameKeyByParent.delete(next.workspaceId);
      this.detach(previous);
    }
  }

  /**
   * Puts a live workspace (and so its whole subtree) under another live parent: O(1) for the
   * lineage, O(subtree) for the depths, which every workspace keeps.
   */
  moveWorkspace(workspace: WorkspaceState, newParent: WorkspaceState): void {
    this.detach(workspace);
    const moved: WorkspaceState = {
      ...workspace,
      parentWorkspaceId: newParent.workspaceId,
      depth: newParent.depth + 1,
    };
    this.workspaces.set(moved.workspaceId, moved);
    this.attach(moved);
    (moved.lineage as MutableLineage).parent = newParent.lineage;
    if (newParent.seq > moved.seq) this.parentsPrecedeChildren = false;
    const shift = moved.depth - workspace.depth;
    if (shift === 0) return;
    const stack = [...this.liveChildren(moved.workspaceId)];
    while (stack.length > 0) {
      const id = stack.pop()!;
      const descendant = this.workspaces.get(id);
      if (descendant === undefined) continue;
      this.workspaces.set(id, { ...descendant, depth: descendant.depth + shift });
      for (const child of this.liveChildren(id)) stack.push(child);
    }
  }

  addApiKey(key: ApiKeyState): void {
    this.apiKeys.set(key.apiKeyId, key);
    if (key.status === 'active') this.activeApiKeyCount += 1;
  }

  revokeApiKey(key: ApiKeyState): void {
    if (key.status !== 'active') return;
    this.apiKeys.set(key.apiKeyId, { ...key, status: 'revoked' });
    this.activeApiKeyCount -= 1;
  }

  private attach(workspace: WorkspaceState): void {
    if (workspace.parentWorkspaceId === null) return;
    const parentId = workspace.parentWorkspaceId;
    const children = this.childrenByParent.get(parentId);
    if (children === undefined) {
      this.childrenByParent.set(parentId, workspace.workspaceId);
      return;
    }
    if (typeof children === 'string') {
      if (children === workspace.workspaceId) return;
      // A second child: from now on the parent keeps a set and a map of names.
      this.childrenByParent.set(parentId, new Set([children, workspace.workspaceId]));
      const only = this.workspaces.get(children);
      this.childByNameKeyByParent.set(
        parentId,
        new Map(only === undefined ? [] : [[only.nameKey, children]]),
      );
    } else {
      children.add(workspace.workspaceId);
    }
    this.attachName(workspace);
  }

  private detach(workspace: WorkspaceState): void {
    if (workspace.parentWorkspaceId === null) return;
    const parentId = workspace.parentWorkspaceId;
    const children = this.childrenByParent.get(parentId);
    if (typeof children === 'string') {
      if (children === workspace.workspaceId) this.childrenByParent.delete(parentId);
      return;
    }
    children?.delete(workspace.workspaceId);
    this.detachName(workspace);
    if (children?.size === 0) {
      this.childrenByParent.delete(parentId);
      this.childByNameKeyByParent.delete(parentId);
    }
  }

  /** Only for a parent with a map of names (several children): an only child's name is read from it. */
  private attachName(workspace: WorkspaceState): void {
    if (workspace.parentWorkspaceId === null) return;
    this.childByNameKeyByParent
      .get(workspace.parentWorkspaceId)
      ?.set(workspace.nameKey, workspace.workspaceId);
  }

  private detachName(workspace: WorkspaceState): void {
    if (workspace.parentWorkspaceId === null) return;
    const names = this.childByNameKeyByParent.get(workspace.parentWorkspaceId);
    // Only if it is still ours: a tolerant fold must not drop another workspace's claim on the name.
    if (names?.get(workspace.nameKey) === workspace.workspaceId) names.delete(workspace.nameKey);
  }
}

/** A parent's one live child, seen as the set liveChildren promises. */
class OnlyChild implements ReadonlySet<string> {
  constructor(private readonly workspaceId: string) {}

  get size(): number {
    return 1;
  }

  has(value: string): boolean {
    return value === this.workspaceId;
  }

  forEach(callback: (value: string, key: string, set: ReadonlySet<string>) => void, thisArg?: unknown): void {
    callback.call(thisArg, this.workspaceId, this.workspaceId, this);
  }

  values(): SetIterator<string> {
    return [this.workspaceId].values();
  }

  keys(): SetIterator<string> {
    return this.values();
  }

  entries(): SetIterator<[string, string]> {
    return [[this.workspaceId, this.workspaceId] as [string, string]].values();
  }

  [Symbol.iterator](): SetIterator<string> {
    return this.values();
  }
}

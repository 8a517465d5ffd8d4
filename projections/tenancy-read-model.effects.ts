import type { TenancyEvent, TenancyEventType } from '../src/tenancy/tenancy.events.js';
import { uuidKey } from '../src/tenancy/uuid.js';

/**
 * What each event does to the tenancy read model (tenants and workspaces): the one place that sorts
 * them, for the per-event statements, the set-based statement and the rebuild's bulk form alike.
 *
 *  - `adds`: new rows only (a tenant, a workspace), counted on rows already there;
 *  - `revision`: nothing in these tables but the tenant's revision, which If-Match and
 *    Min-Position compare with (keys and membership have tables of their own);
 *  - `changes`: updates or deletes rows the read model holds;
 *  - `alone`: rare changes the set-based statement leaves to the per-event statement (a move
 *    rewrites the paths and depths of a whole subtree, which creations in the same batch would have
 *    to see; the tenant's name and status changes are kept out of its tenants' step).
 *
 * A Record, so that the compiler refuses an event type left out.
 */
type Effect = 'adds' | 'revision' | 'changes' | 'alone';

const EFFECTS = {
  TenantCreated: 'adds',
  WorkspaceCreated: 'adds',
  WorkspaceRenamed: 'changes',
  WorkspaceDeletionStarted: 'changes',
  WorkspaceDeleted: 'changes',
  TenantDeletionStarted: 'changes',
  TenantDeleted: 'changes',
  WorkspaceMoved: 'alone',
  TenantRenamed: 'alone',
  TenantSuspended: 'alone',
  TenantReactivated: 'alone',
  TenantQuotasSet: 'revision',
  ApiKeyIssued: 'revision',
  ApiKeyRevoked: 'revision',
  MemberAdded: 'revision',
  MemberUpdated: 'revision',
  MemberRemoved: 'revision',
  GroupCreated: 'revision',
  GroupRenamed: 'revision',
  GroupDeleted: 'revision',
  GroupMemberAdded: 'revision',
  GroupMemberRemoved: 'revision',
  RoleGranted: 'revision',
  RoleRevoked: 'revision',
  PersonalDataErased: 'revision',
} as const satisfies { readonly [Type in TenancyEventType]: Effect };

type RevisionOnlyType = {
  [Type in TenancyEventType]: (typeof EFFECTS)[Type] extends 'revision' ? Type : never;
}[TenancyEventType];

function typesWith(...effects: readonly Effect[]): ReadonlySet<string> {
  return new Set(
    Object.entries(EFFECTS)
      .filter(([, effect]) => effects.includes(effect))
      .map(([type]) => type),
  );
}

const REVISION_ONLY = typesWith('revision');

/** The events applied by the per-event statement alone, never staged with others. */
export const APPLIED_ALONE = typesWith('alone');

/** The events whose whole effect is to add rows, count them and move the tenant's revision. */
export const ADDS_ONLY = typesWith('adds', 'revision');

/** An event that moves only its tenant's revision in these tables. */
export function movesOnlyRevision(
  event: TenancyEvent,
): event is Extract<TenancyEvent, { type: RevisionOnlyType }> {
  return REVISION_ONLY.has(event.type);
}

/**
 * Values by workspace, told apart as the workspaces table tells them: by its id within its
 * tenant, both compared as UUIDs (in any case, the same id). For the forms that work out a batch's
 * rows in the process. Two levels of maps rather than one keyed by the two ids joined: a joined key
 * is a new string per lookup, and a rebuild's bulk form looks up three per event.
 */
export class WorkspaceMap<V> {
  private readonly byTenant = new Map<string, Map<string, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(tenantId: string, workspaceId: string): V | undefined {
    return this.byTenant.get(uuidKey(tenantId))?.get(uuidKey(workspaceId));
  }

  set(tenantId: string, workspaceId: string, value: V): void {
    const tenant = uuidKey(tenantId);
    let workspaces = this.byTenant.get(tenant);
    if (!workspaces) {
      workspaces = new Map();
      this.byTenant.set(tenant, workspaces);
    }
    const before = workspaces.size;
    workspaces.set(uuidKey(workspaceId), value);
    this.count += workspaces.size - before;
  }

  *values(): IterableIterator<V> {
    for (const workspaces of this.byTenant.values()) yield* workspaces.values();
  }
}

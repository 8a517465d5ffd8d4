/**
 * The facts of the tenant aggregate, as stored in the `tenant-<tenantId>` stream. Plain data only:
 * the application wraps each one with metadata (correlationId, causationId, actor, schemaVersion,
 * occurredAt) when it appends. `type` is the stored name, so it must never change; a new shape of an
 * existing event gets a new schema version and an upcaster, not a new type.
 */

import type { MembershipEvent } from './membership.events.js';

/** The schemaVersion the application writes into the metadata of every event below. */
export const CURRENT_SCHEMA_VERSION = 1;

type EventOf<Type extends string, Data> = { readonly type: Type; readonly data: Readonly<Data> };

export type TenantCreated = EventOf<'TenantCreated', { tenantId: string; name: string }>;

export type WorkspaceCreated = EventOf<
  'WorkspaceCreated',
  {
    tenantId: string;
    workspaceId: string;
    /** null only for the tenant's root workspace. */
    parentWorkspaceId: string | null;
    name: string;
    isRoot: boolean;
  }
>;

export type WorkspaceRenamed = EventOf<
  'WorkspaceRenamed',
  { tenantId: string; workspaceId: string; name: string }
>;

/** The workspace's subtree is closed to changes; the cascade process manager deletes it children-first. */
export type WorkspaceDeletionStarted = EventOf<
  'WorkspaceDeletionStarted',
  { tenantId: string; workspaceId: string }
>;

export type WorkspaceDeletionReason = 'requested' | 'cascade' | 'tenant-deleted';

export type WorkspaceDeleted = EventOf<
  'WorkspaceDeleted',
  {
    tenantId: string;
    workspaceId: string;
    // Carried so that consumers (read models, other services) need no lookup to detach the workspace.
    parentWorkspaceId: string | null;
    isRoot: boolean;
    reason: WorkspaceDeletionReason;
  }
>;

/** The tenant is closed to changes; the cascade process manager deletes every workspace, then the tenant. */
export type TenantDeletionStarted = EventOf<'TenantDeletionStarted', { tenantId: string }>;

export type TenantDeleted = EventOf<'TenantDeleted', { tenantId: string }>;

export type ApiKeyRole = 'admin' | 'reader';

/**
 * A key that acts for this tenant (workspaceId null) or for one workspace and its descendants.
 * Only a digest of the secret is ever recorded: the secret itself is shown once, at issue time.
 */
export type ApiKeyIssued = EventOf<
  'ApiKeyIssued',
  {
    tenantId: string;
    apiKeyId: string;
    role: ApiKeyRole;
    workspaceId: string | null;
    name: string | null;
    /** 'sha256:' followed by the lowercase hex SHA-256 digest of the secret. */
    secretHash: string;
    /** ISO 8601; carried in data (not only in metadata) so that key listings need no metadata. */
    issuedAt: string;
  }
>;

export type ApiKeyRevoked = EventOf<'ApiKeyRevoked', { tenantId: string; apiKeyId: string }>;

export type TenancyEvent =
  | TenantCreated
  | WorkspaceCreated
  | WorkspaceRenamed
  | WorkspaceDeletionStarted
  | WorkspaceDeleted
  | TenantDeletionStarted
  | TenantDeleted
  | ApiKeyIssued
  | ApiKeyRevoked
  | MembershipEvent;

export type TenancyEventType = TenancyEvent['type'];

// A Record (not an array literal) so the compiler refuses both a missing and an unknown type name.
const EVENT_TYPE_NAMES: { readonly [Type in TenancyEventType]: true } = {
  TenantCreated: true,
  WorkspaceCreated: true,
  WorkspaceRenamed: true,
  WorkspaceDeletionStarted: true,
  WorkspaceDeleted: true,
  TenantDeletionStarted: true,
  TenantDeleted: true,
  ApiKeyIssued: true,
  ApiKeyRevoked: true,
  MemberAdded: true,
  MemberUpdated: true,
  MemberRemoved: true,
  GroupCreated: true,
  GroupRenamed: true,
  GroupDeleted: true,
  GroupMemberAdded: true,
  GroupMemberRemoved: true,
  RoleGranted: true,
  RoleRevoked: true,
};

export const TENANCY_EVENT_TYPES: readonly TenancyEventType[] = Object.freeze(
  Object.keys(EVENT_TYPE_NAMES) as TenancyEventType[],
);

/** For readers of a shared log: tells this aggregate's events from anything else stored there. */
export function isTenancyEventType(type: string): type is TenancyEventType {
  return Object.hasOwn(EVENT_TYPE_NAMES, type);
}

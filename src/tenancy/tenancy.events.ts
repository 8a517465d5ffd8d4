/**
 * The facts of the tenant aggregate, as stored in the `tenant-<tenantId>` stream. Plain data only:
 * the application wraps each one with metadata (correlationId, causationId, actor, schemaVersion,
 * occurredAt) when it appends. `type` is the stored name, so it must never change; a new shape of an
 * existing event gets a new schema version and an upcaster, not a new type.
 */

import type { MembershipEvent } from './membership.events.js';
import type { QuotaOverrides } from './quotas.js';

/**
 * The schemaVersion the application writes into the metadata of every event below. Version 2 seals
 * members' display names (see personal-text.ts) and records which name reservation backs a tenant's
 * name; every other shape is unchanged from version 1.
 */
export const CURRENT_SCHEMA_VERSION = 2;

type EventOf<Type extends string, Data> = { readonly type: Type; readonly data: Readonly<Data> };

export type TenantCreated = EventOf<
  'TenantCreated',
  {
    tenantId: string;
    name: string;
    /**
     * The revision of the reservation in the name's stream that backs this name (see
     * tenant-name-reservation.ts); absent in histories from before renames existed.
     */
    nameReservation?: number;
  }
>;

/** The tenant stops accepting changes (but reads, audit and deletion) until it is reactivated. */
export type TenantSuspended = EventOf<'TenantSuspended', { tenantId: string; reason: string }>;

export type TenantReactivated = EventOf<'TenantReactivated', { tenantId: string }>;

/**
 * The tenant's name changed. The new name was reserved first (its reservation's revision is
 * `nameReservation`); the previous one is released after this event, never before.
 */
export type TenantRenamed = EventOf<
  'TenantRenamed',
  {
    tenantId: string;
    name: string;
    previousName: string;
    /** null: the name changed only in case, and the reservation backing it is not on record. */
    nameReservation: number | null;
    /** The reservation that backed the previous name, when known: the one to release. */
    previousNameReservation: number | null;
  }
>;

/** The tenant's own quotas; null: the service's configured default applies. */
export type TenantQuotasSet = EventOf<'TenantQuotasSet', { tenantId: string; quotas: QuotaOverrides }>;

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

/**
 * A workspace and its whole subtree moved under another parent: one event, whatever the subtree's
 * size. Depths and paths below it follow from the new parent's.
 */
export type WorkspaceMoved = EventOf<
  'WorkspaceMoved',
  { tenantId: string; workspaceId: string; fromParentWorkspaceId: string; toParentWorkspaceId: string }
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
  | TenantSuspended
  | TenantReactivated
  | TenantRenamed
  | TenantQuotasSet
  | WorkspaceCreated
  | WorkspaceRenamed
  | WorkspaceMoved
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
  TenantSuspended: true,
  TenantReactivated: true,
  TenantRenamed: true,
  TenantQuotasSet: true,
  WorkspaceCreated: true,
  WorkspaceRenamed: true,
  WorkspaceMoved: true,
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
  PersonalDataErased: true,
};

export const TENANCY_EVENT_TYPES: readonly TenancyEventType[] = Object.freeze(
  Object.keys(EVENT_TYPE_NAMES) as TenancyEventType[],
);

/** For readers of a shared log: tells this aggregate's events from anything else stored there. */
export function isTenancyEventType(type: string): type is TenancyEventType {
  return Object.hasOwn(EVENT_TYPE_NAMES, type);
}

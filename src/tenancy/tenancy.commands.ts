/**
 * Orders to the tenant aggregate. Every id arrives with the command (the decider generates none,
 * except the root workspace id, which is derived from the tenantId so that a retry cannot duplicate it).
 */

import type { MembershipCommand } from './membership.commands.js';
import type { ApiKeyRole } from './tenancy.events.js';
import type { QuotaName } from './quotas.js';

type CommandOf<Type extends string, Data> = { readonly type: Type } & Readonly<Data>;

export type CreateTenant = CommandOf<
  'CreateTenant',
  {
    tenantId: string;
    name: string;
    /** The user the tenant starts with as its admin (a member with a tenant-wide admin grant). */
    adminUserId?: string;
    /** The revision of the name's reservation (tenant-name-reservation.ts), when one was made. */
    nameReservation?: number;
  }
>;

/** Operator only. Every change but reactivation, deletion and erasure is refused while suspended. */
export type SuspendTenant = CommandOf<'SuspendTenant', { tenantId: string; reason: string }>;

export type ReactivateTenant = CommandOf<'ReactivateTenant', { tenantId: string }>;

/**
 * The application reserves the new name first and hands over the reservation's revision; a change
 * of case only keeps the reservation the tenant has (nameReservation absent).
 */
export type RenameTenant = CommandOf<
  'RenameTenant',
  { tenantId: string; name: string; nameReservation?: number }
>;

/** Replaces the tenant's own quotas; an absent or null quota follows the configured default. */
export type SetTenantQuotas = CommandOf<
  'SetTenantQuotas',
  { tenantId: string; quotas: Partial<Record<QuotaName, number | null>> }
>;

export type MoveWorkspace = CommandOf<
  'MoveWorkspace',
  { tenantId: string; workspaceId: string; parentWorkspaceId: string }
>;

/** Issued by the root-bootstrap process manager after TenantCreated. */
export type BootstrapRootWorkspace = CommandOf<'BootstrapRootWorkspace', { tenantId: string }>;

export type CreateWorkspace = CommandOf<
  'CreateWorkspace',
  {
    tenantId: string;
    workspaceId: string;
    /** Absent: directly under the tenant's root workspace. */
    parentWorkspaceId?: string;
    name: string;
  }
>;

export type RenameWorkspace = CommandOf<
  'RenameWorkspace',
  { tenantId: string; workspaceId: string; name: string }
>;

export type DeleteWorkspace = CommandOf<
  'DeleteWorkspace',
  {
    tenantId: string;
    workspaceId: string;
    /** false: only a workspace without live children can go; true: the whole subtree, asynchronously. */
    cascade: boolean;
  }
>;

export type DeleteTenant = CommandOf<'DeleteTenant', { tenantId: string }>;

/** Issued by the cascade process manager until it returns no events: deletes the next batch, children first. */
export type ContinueDeletion = CommandOf<'ContinueDeletion', { tenantId: string; maxBatch: number }>;

export type IssueApiKey = CommandOf<
  'IssueApiKey',
  {
    tenantId: string;
    apiKeyId: string;
    role: ApiKeyRole;
    /** Absent or null: a key for the whole tenant. */
    workspaceId?: string | null;
    name?: string | null;
    /** The application generates the secret and hashes it: decide never sees a secret. */
    secretHash: string;
    issuedAt: string;
  }
>;

export type RevokeApiKey = CommandOf<'RevokeApiKey', { tenantId: string; apiKeyId: string }>;

export type TenancyCommand =
  | CreateTenant
  | SuspendTenant
  | ReactivateTenant
  | RenameTenant
  | SetTenantQuotas
  | BootstrapRootWorkspace
  | CreateWorkspace
  | RenameWorkspace
  | MoveWorkspace
  | DeleteWorkspace
  | DeleteTenant
  | ContinueDeletion
  | IssueApiKey
  | RevokeApiKey
  | MembershipCommand;

export type TenancyCommandType = TenancyCommand['type'];

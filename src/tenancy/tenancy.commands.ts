/**
 * Orders to the tenant aggregate. Every id arrives with the command (the decider generates none,
 * except the root workspace id, which is derived from the tenantId so that a retry cannot duplicate it).
 */

import type { MembershipCommand } from './membership.commands.js';
import type { ApiKeyRole } from './tenancy.events.js';

type CommandOf<Type extends string, Data> = { readonly type: Type } & Readonly<Data>;

export type CreateTenant = CommandOf<
  'CreateTenant',
  {
    tenantId: string;
    name: string;
    /** The user the tenant starts with as its admin (a member with a tenant-wide admin grant). */
    adminUserId?: string;
  }
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
  | BootstrapRootWorkspace
  | CreateWorkspace
  | RenameWorkspace
  | DeleteWorkspace
  | DeleteTenant
  | ContinueDeletion
  | IssueApiKey
  | RevokeApiKey
  | MembershipCommand;

export type TenancyCommandType = TenancyCommand['type'];

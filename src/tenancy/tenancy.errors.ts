/**
 * The stable codes a refused tenancy command carries. The HTTP layer maps them to statuses
 * (404 for the *_NOT_FOUND codes, 400 for VALIDATION_FAILED, 409 for the rest), so a code is
 * part of the public contract: add codes, never rename them.
 */
export type TenancyErrorCode =
  | 'VALIDATION_FAILED'
  | 'TENANT_NOT_FOUND'
  /** The tenantId is already taken: created with another name, or deleting/deleted (ids are never reused). */
  | 'TENANT_ALREADY_EXISTS'
  /** Another tenant holds this name (case-insensitively). */
  | 'TENANT_NAME_TAKEN'
  | 'TENANT_DELETING'
  | 'WORKSPACE_NOT_FOUND'
  | 'WORKSPACE_NAME_TAKEN'
  /** The workspace, or one of its ancestors, is being cascade-deleted. */
  | 'WORKSPACE_DELETING'
  | 'WORKSPACE_HAS_CHILDREN'
  | 'ROOT_WORKSPACE_UNDELETABLE'
  /** The workspaceId exists with another parent or name, is deleted, or is the tenant's root id. */
  | 'WORKSPACE_ID_TAKEN'
  /** No such key in this tenant (revoked keys are still found: revoking one again changes nothing). */
  | 'API_KEY_NOT_FOUND'
  /** The apiKeyId exists with another role, scope, name or secret. */
  | 'API_KEY_ID_TAKEN'
  /** The tenant holds MAX_ACTIVE_API_KEYS active keys already; revoke one first. */
  | 'API_KEY_LIMIT_REACHED';

/** A command the tenant's current state refuses. Anything else thrown by the decider is a bug. */
export class TenancyRuleViolation extends Error {
  override readonly name = 'TenancyRuleViolation';

  constructor(
    readonly code: TenancyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The stable codes a refused tenancy command carries. The HTTP layer maps them to statuses
 * (404 for the *_NOT_FOUND codes, 400 for VALIDATION_FAILED, 409 for the rest), so a code is
 * part of the public contract: add codes, never rename them.
 */
export type TenancyErrorCode =
  | 'VALIDATION_FAILED'
  | 'TENANT_NOT_FOUND'
  /**
   * The tenantId is already taken: created with another name or another admin user (or with one where
   * none was asked for, or none where one is), or deleting/deleted (ids are never reused).
   */
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
  | 'API_KEY_LIMIT_REACHED'
  /** The user is not a member of this tenant. */
  | 'MEMBER_NOT_FOUND'
  /** No such group in this tenant (a deleted group is not found either). */
  | 'GROUP_NOT_FOUND'
  /** The member and the group exist, and the member is not in the group. */
  | 'NOT_IN_GROUP'
  /** Another live group of the tenant has this name (case-insensitively). */
  | 'GROUP_NAME_TAKEN'
  /** The groupId exists with another name, or belonged to a deleted group (ids are never reused). */
  | 'GROUP_ID_TAKEN'
  /** No such active grant in this tenant (a revoked grant is not found either). */
  | 'GRANT_NOT_FOUND'
  /** The grantId is already taken by another grant, active or revoked. */
  | 'GRANT_ID_TAKEN'
  /** The grant is an API key's own role: it changes only with the key (issue or revoke the key). */
  | 'GRANT_OF_API_KEY'
  /** The change would leave a tenant that has had an admin user without one. */
  | 'LAST_ADMIN'
  /** The client's If-None-Match: * or If-Match: * does not hold (the member exists, or does not). */
  | 'PRECONDITION_FAILED'
  /** The tenant is suspended: only reactivation, deletion, revocation of API keys and erasure of personal data are accepted. */
  | 'TENANT_SUSPENDED'
  /** The workspace would land in its own subtree. */
  | 'WORKSPACE_MOVE_CYCLE'
  /** The root workspace has no parent and stays where it is. */
  | 'ROOT_WORKSPACE_IMMOVABLE'
  /** One of the tenant's quotas would be exceeded; the details name it, its limit and the count. */
  | 'QUOTA_EXCEEDED';

/** The field of a command that breaks its rule, and the rule (`must be a lowercase UUID`). */
export interface InvalidField {
  readonly field: string;
  readonly rule: string;
}

/** A command the tenant's current state refuses. Anything else thrown by the decider is a bug. */
export class TenancyRuleViolation extends Error {
  override readonly name = 'TenancyRuleViolation';

  constructor(
    readonly code: TenancyErrorCode,
    message: string,
    /** Plain data a client can act on (QUOTA_EXCEEDED: the quota, its limit and the count). */
    readonly details: Readonly<Record<string, string | number>> = {},
    /** VALIDATION_FAILED: the field at fault, which the HTTP layer lists in `errors`. */
    readonly invalid?: InvalidField,
  ) {
    super(message);
  }
}

/**
 * The API key a command is made with may no longer act on the tenant, as the state the command is
 * decided on shows (revoked, its workspace deleted, or the tenant's deletion started). Not a rule of
 * the tenancy the command broke: its caller is no longer authenticated, and is answered as a request
 * with a revoked key is (HTTP 401).
 */
export class ActingApiKeyInactive extends Error {
  override readonly name = 'ActingApiKeyInactive';

  constructor(readonly apiKeyId: string) {
    super(`API key ${apiKeyId} may no longer act on this tenant`);
  }
}

/** VALIDATION_FAILED for one field: the message reads "<field> <rule>". */
export function invalidField(field: string, rule: string): TenancyRuleViolation {
  return new TenancyRuleViolation('VALIDATION_FAILED', `${field} ${rule}`, {}, { field, rule });
}

import { ActingApiKeyInactive, TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';
import type { TenantState } from '../../tenancy/tenant.state.js';
import { decideOnState, type AccessOutcome, type AccessRequest } from './access-on-state.js';

/** The caller may see the resource but not do this (HTTP 403). */
export class AccessForbidden extends Error {
  override readonly name = 'AccessForbidden';

  constructor() {
    super('This API key may not do this.');
  }
}

/**
 * The one way a refused access decision is answered, whether in front of the request or again on the
 * state a command is decided on: a refusal names only the ids the caller sent (a defaulted one, the
 * root, is not named), so that it reveals nothing the caller did not already know.
 */
export function refusalOf(outcome: Exclude<AccessOutcome, { kind: 'allow' }>, request: AccessRequest): Error {
  switch (outcome.kind) {
    case 'scope-gone':
      return new ActingApiKeyInactive(request.principal.kind === 'api-key' ? request.principal.apiKeyId : '');
    case 'forbidden':
      return new AccessForbidden();
    case 'not-found': {
      const { target, sentWorkspaceIds } = request;
      if (outcome.resource === 'grant')
        return new TenancyRuleViolation('GRANT_NOT_FOUND', `No grant ${target.grantId ?? ''}.`);
      if (outcome.resource === 'tenant')
        return new TenancyRuleViolation('TENANT_NOT_FOUND', `No tenant ${target.tenantId ?? ''}.`);
      return new TenancyRuleViolation(
        'WORKSPACE_NOT_FOUND',
        sentWorkspaceIds.length === 0
          ? 'No such workspace.'
          : `No workspace ${sentWorkspaceIds.join(' or ')}.`,
      );
    }
    default: {
      const _exhaustive: never = outcome;
      throw new Error('unreachable');
    }
  }
}

/** Throws the request's refusal unless the access decision on this state of its tenant allows it. */
export function requireAccessOnState(state: TenantState, request: AccessRequest): void {
  const outcome = decideOnState(state, request);
  if (outcome.kind !== 'allow') throw refusalOf(outcome, request);
}

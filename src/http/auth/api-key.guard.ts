import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AccessControl } from '../../application/access/access-control.service.js';
import type { AccessTarget } from '../../application/access/access-policy.js';
import type { AccessRequest } from '../../application/access/access-on-state.js';
import { refusalOf } from '../../application/access/access-refusal.js';
import type { Principal } from '../../application/access/principal.js';
import { rootWorkspaceIdOf } from '../../tenancy/root-workspace.js';
import { validationProblem } from '../problem.js';
import { GIVEN_ONCE } from '../request-validation.js';
import { ApiKeyAuthenticator } from './api-key.authenticator.js';
import { isApiRoute } from '../route-table.js';
import { ACCESS_KEY, ACTOR_KEY, READ_SCOPE_KEY, type RequestReadScope } from './actor.js';
import { ACCESS_REQUIREMENT, type AccessRequirement, type IdSource } from './requires.decorator.js';
import { isUuid } from '../../tenancy/uuid.js';

type GuardedRequest = Request & {
  [ACTOR_KEY]?: Principal;
  [ACCESS_KEY]?: AccessRequest;
  [READ_SCOPE_KEY]?: RequestReadScope;
};

/**
 * Authorization of every /v1 route, in this one place, of the caller the ApiKeyAuthenticator found:
 * each route declares its permission and where its target ids are (@Requires); the access policy
 * decides, and a refusal is 404 when the caller may not learn whether the target exists, 403 when
 * it can already see it.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly access: AccessControl,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const requirement = this.reflector.get<AccessRequirement | undefined>(
      ACCESS_REQUIREMENT,
      context.getHandler(),
    );
    if (requirement === undefined) {
      // Health, metrics and the OpenAPI document are open. Which route this is comes from the
      // route as declared, never from the path as the client spelt it.
      if (!isApiRoute(request)) return true;
      // Fails closed and loudly: a route without a declaration is a bug, never an open door.
      throw new Error(`${request.method} ${request.path} declares no access requirement`);
    }
    const principal = this.authenticator.principalOf(request);
    // A refusal echoes only ids the caller sent: a defaulted one (the root) is not named.
    const sentWorkspaceIds = [requirement.workspaceId, requirement.destinationWorkspaceId]
      .map((source) => (source === undefined ? undefined : idFrom(request, source)))
      .filter((id): id is string => id !== undefined);
    const access: AccessRequest = {
      principal,
      permission: requirement.permission,
      target: targetOf(request, requirement),
      sentWorkspaceIds,
    };
    const outcome = await this.access.decide(access);
    if (outcome.kind !== 'allow') throw refusalOf(outcome, access);
    request[ACTOR_KEY] = principal;
    request[ACCESS_KEY] = access;
    request[READ_SCOPE_KEY] = { subtree: outcome.subtree };
    return true;
  }
}

function targetOf(request: Request, requirement: AccessRequirement): AccessTarget {
  const tenantId = requirement.tenantId === undefined ? undefined : idFrom(request, requirement.tenantId);
  let workspaceId =
    requirement.workspaceId === undefined ? undefined : idFrom(request, requirement.workspaceId);
  if (
    workspaceId === undefined &&
    requirement.workspaceId?.absentMeans === 'root' &&
    tenantId !== undefined
  ) {
    workspaceId = rootWorkspaceIdOf(tenantId);
  }
  const grantId = requirement.grantId === undefined ? undefined : idFrom(request, requirement.grantId);
  const destinationWorkspaceId =
    requirement.destinationWorkspaceId === undefined
      ? undefined
      : idFrom(request, requirement.destinationWorkspaceId);
  return {
    ...(tenantId === undefined ? {} : { tenantId }),
    ...(workspaceId === undefined ? {} : { workspaceId }),
    ...(destinationWorkspaceId === undefined ? {} : { destinationWorkspaceId }),
    ...(grantId === undefined ? {} : { grantId }),
  };
}

/**
 * The id as the domain stores it (lower case), undefined when absent. Checked here because the
 * guard runs before the validation pipes: a malformed id is refused before anything looks it up.
 */
function idFrom(request: Request, source: IdSource): string | undefined {
  const container: unknown =
    source.in === 'param' ? request.params : source.in === 'query' ? request.query : request.body;
  const value =
    typeof container === 'object' &&
    container !== null &&
    !Array.isArray(container) &&
    Object.hasOwn(container, source.name)
      ? (container as Record<string, unknown>)[source.name]
      : undefined;
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) throw validationProblem([{ field: source.name, message: GIVEN_ONCE }]);
  if (!isUuid(value)) throw validationProblem([{ field: source.name, message: 'must be a UUID' }]);
  return value.toLowerCase();
}

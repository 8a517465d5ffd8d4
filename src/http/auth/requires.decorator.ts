import { SetMetadata } from '@nestjs/common';
import type { Permission } from '../../application/access/access-policy.js';

/** Where in the request an id of the target is found. */
export interface IdSource {
  readonly in: 'param' | 'query' | 'body';
  readonly name: string;
  /** Absent from the request: the tenant's root workspace is meant (creating under the root). */
  readonly absentMeans?: 'root';
}

export interface AccessRequirement {
  readonly permission: Permission;
  readonly tenantId?: IdSource;
  readonly workspaceId?: IdSource;
  readonly grantId?: IdSource;
}

export const ACCESS_REQUIREMENT = 'tenancy:access-requirement';

export const fromParam = (name: string): IdSource => ({ in: 'param', name });
export const fromQuery = (name: string): IdSource => ({ in: 'query', name });
export const fromBody = (name: string, absentMeans?: 'root'): IdSource =>
  absentMeans === undefined ? { in: 'body', name } : { in: 'body', name, absentMeans };

/**
 * Declares what a /v1 route asks of its caller and where its target's ids are. The ApiKeyGuard
 * refuses to serve a /v1 route that declares nothing, so a new route cannot be left open by mistake.
 */
export function Requires(
  permission: Permission,
  target: { tenantId?: IdSource; workspaceId?: IdSource; grantId?: IdSource } = {},
): MethodDecorator {
  return SetMetadata(ACCESS_REQUIREMENT, { permission, ...target } satisfies AccessRequirement);
}

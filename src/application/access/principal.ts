import type { ApiKeyRole } from '../../tenancy/tenancy.events.js';

/** Who a request acts as, once its key has been verified. */
export type Principal =
  | { readonly kind: 'operator'; readonly id: 'operator' }
  | {
      readonly kind: 'api-key';
      readonly apiKeyId: string;
      readonly tenantId: string;
      readonly role: ApiKeyRole;
      /** null: the whole tenant; otherwise this workspace and its descendants. */
      readonly workspaceId: string | null;
    };

/** What the events a principal causes record as their actor. */
export function principalName(principal: Principal): string {
  return principal.kind === 'operator' ? 'operator' : principal.apiKeyId;
}

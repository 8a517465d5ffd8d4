import { describe, expect, it } from '@jest/globals';
import {
  apiKey,
  apiKeyIssued,
  fold,
  grantId,
  ROOT_ID,
  roleGranted,
  rootCreated,
  TENANT_ID,
  tenantCreated,
  workspaceCreated,
  workspaceId,
  workspaceMoved,
} from '../../tenancy/decider.test-kit.js';
import type { ApiKeyRole, TenancyEvent } from '../../tenancy/tenancy.events.js';
import { TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';
import type { AccessRequest } from './access-on-state.js';
import { AccessForbidden, requireAccessOnState } from './access-refusal.js';
import type { AccessTarget, Permission } from './access-policy.js';
import type { Principal } from './principal.js';

const A = workspaceId(0xa);
const B = workspaceId(0xb);
const C = workspaceId(0xc);
const D = workspaceId(0xd);
const KEY = '5f0c8a52-6a3e-4c41-9a43-0e6f3c1d2b7a';
const OTHER_KEY = '6a1d9b63-7b4f-4d52-8b54-1f7a4d2e3c8b';

// The key's top is A; B lies below it, C beside it, D below C.
const scoped: TenancyEvent[] = [
  tenantCreated(),
  rootCreated(),
  workspaceCreated(A, ROOT_ID, 'A'),
  workspaceCreated(B, A, 'B'),
  workspaceCreated(C, ROOT_ID, 'C'),
  workspaceCreated(D, C, 'D'),
  apiKeyIssued(KEY, { workspaceId: A }),
  roleGranted(grantId(1), apiKey(OTHER_KEY), 'viewer', B),
];

const workspaceKey = (role: ApiKeyRole = 'admin'): Extract<Principal, { kind: 'api-key' }> => ({
  kind: 'api-key',
  apiKeyId: KEY,
  tenantId: TENANT_ID,
  role,
  workspaceId: A,
});
const asked = (
  permission: Permission,
  target: Omit<AccessTarget, 'tenantId'>,
  principal = workspaceKey(),
) => {
  const request: AccessRequest = {
    principal,
    permission,
    target: { tenantId: TENANT_ID, ...target },
    sentWorkspaceIds: [target.workspaceId, target.destinationWorkspaceId].filter(
      (id): id is string => id !== undefined,
    ),
  };
  return request;
};
/** What each write route of a workspace key asks, on B (inside the key's subtree). */
const writesOnB: AccessRequest[] = [
  asked('workspace:create', { workspaceId: B }),
  asked('workspace:change', { workspaceId: B }),
  asked('workspace:move', { workspaceId: B, destinationWorkspaceId: A }),
  asked('grant:manage', { workspaceId: B }),
  asked('grant:manage', { grantId: grantId(1) }),
];
const outcomeOn = (events: TenancyEvent[], request: AccessRequest): string => {
  try {
    requireAccessOnState(fold(events), request);
    return 'allowed';
  } catch (error) {
    if (error instanceof TenancyRuleViolation) return `${error.code}: ${error.message}`;
    if (error instanceof AccessForbidden) return 'forbidden';
    return String(error);
  }
};

describe("a workspace key's request, decided on a state of its tenant", () => {
  it("is allowed while its target lies in the key's subtree, and on the key's top where the route allows it", () => {
    expect(writesOnB.map((request) => outcomeOn(scoped, request))).toEqual(writesOnB.map(() => 'allowed'));
    expect(outcomeOn(scoped, asked('workspace:create', { workspaceId: A }))).toBe('allowed');
    expect(outcomeOn(scoped, asked('grant:manage', { workspaceId: A }))).toBe('allowed');
    expect(outcomeOn(scoped, asked('workspace:change', { workspaceId: A }))).toBe('forbidden');
  });

  it('is refused as not found, naming only the ids sent, once a move has taken its target (or destination) out of the subtree', () => {
    const movedAway = [...scoped, workspaceMoved(B, A, C)];
    expect(writesOnB.map((request) => outcomeOn(movedAway, request))).toEqual([
      `WORKSPACE_NOT_FOUND: No workspace ${B}.`,
      `WORKSPACE_NOT_FOUND: No workspace ${B}.`,
      `WORKSPACE_NOT_FOUND: No workspace ${B} or ${A}.`,
      `WORKSPACE_NOT_FOUND: No workspace ${B}.`,
      `GRANT_NOT_FOUND: No grant ${grantId(1)}.`,
    ]);
    expect(outcomeOn(scoped, asked('workspace:move', { workspaceId: B, destinationWorkspaceId: D }))).toBe(
      `WORKSPACE_NOT_FOUND: No workspace ${B} or ${D}.`,
    );
  });

  it("is decided without the tenant's state for a tenant-wide key, which reaches every workspace", () => {
    const tenantWide = { ...workspaceKey(), workspaceId: null };
    expect(outcomeOn(scoped, asked('workspace:change', { workspaceId: C }, tenantWide))).toBe('allowed');
    expect(
      outcomeOn(
        scoped,
        asked('workspace:change', { workspaceId: C }, { ...tenantWide, role: 'reader' as const }),
      ),
    ).toBe('forbidden');
  });
});

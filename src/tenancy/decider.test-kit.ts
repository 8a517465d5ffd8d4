/**
 * given(events).when(command).then(events) for the tenancy decider. Test support only: it asserts
 * with node:assert so that it needs no jest import outside spec files.
 */
import assert from 'node:assert/strict';
import type { TenancyCommand } from './tenancy.commands.js';
import { decide, evolve, initialState } from './tenancy.decider.js';
import { TenancyRuleViolation, type TenancyErrorCode } from './tenancy.errors.js';
import type { TenancyEvent, WorkspaceDeletionReason } from './tenancy.events.js';
import type {
  GroupMemberRemovalReason,
  PrincipalRef,
  Role,
  RoleRevocationReason,
} from './membership.events.js';
import { rootWorkspaceCreated, rootWorkspaceIdOf } from './root-workspace.js';
import type { TenantState } from './tenant.state.js';
import type { PersonalText } from './personal-text.js';

export function fold(events: readonly TenancyEvent[], state: TenantState = initialState()): TenantState {
  return events.reduce(evolve, state);
}

export interface Outcome {
  /** Exactly these events, in this order. */
  then(...expected: TenancyEvent[]): void;
  /** Refused with this code (and, when given, exactly these details). */
  thenFails(code: TenancyErrorCode, details?: TenancyRuleViolation['details']): void;
  thenNothing(): void;
}

export function given(...history: TenancyEvent[]) {
  return {
    when(command: TenancyCommand): Outcome {
      const state = fold(history);
      const decideUnchanged = (): TenancyEvent[] => {
        const before = snapshotOf(state);
        try {
          return decide(command, state);
        } finally {
          assert.deepEqual(snapshotOf(state), before, 'decide must not change the state');
        }
      };
      return {
        then(...expected) {
          assert.deepEqual(decideUnchanged(), expected);
        },
        thenFails(code, details) {
          assert.throws(decideUnchanged, (error: unknown) => {
            assert.ok(
              error instanceof TenancyRuleViolation,
              `expected a TenancyRuleViolation, got ${String(error)}`,
            );
            assert.equal(error.code, code);
            if (details) assert.deepEqual(error.details, details);
            return true;
          });
        },
        thenNothing() {
          assert.deepEqual(decideUnchanged(), []);
        },
      };
    },
  };
}

/** Everything observable through TenantState, as plain data. */
export function snapshotOf(state: TenantState): unknown {
  return {
    status: state.status,
    tenantId: state.tenantId,
    name: state.name,
    nameKey: state.nameKey,
    nameReservation: state.nameReservation,
    initialAdminUserId: state.initialAdminUserId,
    suspensionReason: state.suspensionReason,
    quotaOverrides: state.quotaOverrides,
    parentsPrecedeChildren: state.parentsPrecedeChildren,
    rootWorkspaceId: state.rootWorkspaceId,
    liveWorkspaceCount: state.liveWorkspaceCount,
    deletionTops: [...state.deletionTops],
    activeApiKeyCount: state.activeApiKeyCount,
    apiKeys: [...state.apiKeys.values()],
    members: [...state.membership.members.values()],
    groups: [...state.membership.groups.values()].map((group) => ({ ...group, members: [...group.members] })),
    grants: [...state.membership.grants.values()],
    tenantAdminUserCount: state.membership.tenantAdminUserCount,
    workspaces: [...state.workspaces.values()].map((workspace) => ({
      ...workspace,
      liveChildren: [...state.liveChildren(workspace.workspaceId)],
    })),
  };
}

export const TENANT_ID = '0b7e6f4c-2d1a-4e8b-9c3f-5a6b7c8d9e0f';
export const ROOT_ID = rootWorkspaceIdOf(TENANT_ID);

/** A readable, valid, distinct workspace id per number. */
export function workspaceId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export const tenantCreated = (name = 'Acme', tenantId = TENANT_ID): TenancyEvent => ({
  type: 'TenantCreated',
  data: { tenantId, name },
});

export const rootCreated = (tenantId = TENANT_ID): TenancyEvent => rootWorkspaceCreated(tenantId);

export const workspaceCreated = (id: string, parentId: string, name: string): TenancyEvent => ({
  type: 'WorkspaceCreated',
  data: { tenantId: TENANT_ID, workspaceId: id, parentWorkspaceId: parentId, name, isRoot: false },
});

export const workspaceRenamed = (id: string, name: string): TenancyEvent => ({
  type: 'WorkspaceRenamed',
  data: { tenantId: TENANT_ID, workspaceId: id, name },
});

export const workspaceDeletionStarted = (id: string): TenancyEvent => ({
  type: 'WorkspaceDeletionStarted',
  data: { tenantId: TENANT_ID, workspaceId: id },
});

export const workspaceDeleted = (
  id: string,
  parentId: string | null,
  reason: WorkspaceDeletionReason,
  isRoot = false,
): TenancyEvent => ({
  type: 'WorkspaceDeleted',
  data: { tenantId: TENANT_ID, workspaceId: id, parentWorkspaceId: parentId, isRoot, reason },
});

export const tenantDeletionStarted = (): TenancyEvent => ({
  type: 'TenantDeletionStarted',
  data: { tenantId: TENANT_ID },
});

export const tenantSuspended = (reason = 'unpaid invoices'): TenancyEvent => ({
  type: 'TenantSuspended',
  data: { tenantId: TENANT_ID, reason },
});

export const tenantReactivated = (): TenancyEvent => ({
  type: 'TenantReactivated',
  data: { tenantId: TENANT_ID },
});

export const workspaceMoved = (id: string, fromParentId: string, toParentId: string): TenancyEvent => ({
  type: 'WorkspaceMoved',
  data: {
    tenantId: TENANT_ID,
    workspaceId: id,
    fromParentWorkspaceId: fromParentId,
    toParentWorkspaceId: toParentId,
  },
});

export const tenantDeleted = (): TenancyEvent => ({ type: 'TenantDeleted', data: { tenantId: TENANT_ID } });

export const SECRET_HASH = `sha256:${'ab'.repeat(32)}`;
export const ISSUED_AT = '2025-03-01T12:00:00.000Z';

export const apiKeyIssued = (
  apiKeyId: string,
  options: {
    role?: 'admin' | 'reader';
    workspaceId?: string | null;
    name?: string | null;
    secretHash?: string;
  } = {},
): TenancyEvent => ({
  type: 'ApiKeyIssued',
  data: {
    tenantId: TENANT_ID,
    apiKeyId,
    role: options.role ?? 'admin',
    workspaceId: options.workspaceId ?? null,
    name: options.name ?? null,
    secretHash: options.secretHash ?? SECRET_HASH,
    issuedAt: ISSUED_AT,
  },
});

export const apiKeyRevoked = (apiKeyId: string): TenancyEvent => ({
  type: 'ApiKeyRevoked',
  data: { tenantId: TENANT_ID, apiKeyId },
});

export const user = (id: string): PrincipalRef => ({ type: 'user', id });
export const group = (id: string): PrincipalRef => ({ type: 'group', id });
export const apiKey = (id: string): PrincipalRef => ({ type: 'apiKey', id });

/** A readable, valid, distinct group or grant id per number. */
export function groupId(n: number): string {
  return `00000000-0000-4000-9000-${n.toString(16).padStart(12, '0')}`;
}
export function grantId(n: number): string {
  return `00000000-0000-4000-a000-${n.toString(16).padStart(12, '0')}`;
}

/**
 * A stand-in for a display name sealed by the application (src/personal-data): the domain only
 * checks the form and compares, so a readable, deterministic stand-in is enough here.
 */
export function sealedName(text: string): { readonly sealed: string } {
  const payload = Buffer.from(text.padEnd(32, '.'), 'utf8').toString('base64url');
  return { sealed: `pd1.00000000-0000-4000-b000-000000000001.${payload}` };
}

export const memberAdded = (userId: string, displayName: PersonalText | null = null): TenancyEvent => ({
  type: 'MemberAdded',
  data: { tenantId: TENANT_ID, userId, displayName },
});

export const memberRemoved = (userId: string): TenancyEvent => ({
  type: 'MemberRemoved',
  data: { tenantId: TENANT_ID, userId },
});

export const groupCreated = (id: string, name: string): TenancyEvent => ({
  type: 'GroupCreated',
  data: { tenantId: TENANT_ID, groupId: id, name },
});

export const groupDeleted = (id: string): TenancyEvent => ({
  type: 'GroupDeleted',
  data: { tenantId: TENANT_ID, groupId: id },
});

export const groupMemberAdded = (id: string, userId: string): TenancyEvent => ({
  type: 'GroupMemberAdded',
  data: { tenantId: TENANT_ID, groupId: id, userId },
});

export const groupMemberRemoved = (
  id: string,
  userId: string,
  reason: GroupMemberRemovalReason = 'requested',
): TenancyEvent => ({
  type: 'GroupMemberRemoved',
  data: { tenantId: TENANT_ID, groupId: id, userId, reason },
});

export const roleGranted = (
  id: string,
  principal: PrincipalRef,
  role: Role,
  workspaceId: string | null = null,
): TenancyEvent => ({
  type: 'RoleGranted',
  data: { tenantId: TENANT_ID, grantId: id, principal, role, workspaceId },
});

export const roleRevoked = (
  id: string,
  principal: PrincipalRef,
  role: Role,
  workspaceId: string | null,
  reason: RoleRevocationReason,
): TenancyEvent => ({
  type: 'RoleRevoked',
  data: { tenantId: TENANT_ID, grantId: id, principal, role, workspaceId, reason },
});

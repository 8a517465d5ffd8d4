import type { PrincipalRef, Role } from '../../tenancy/membership.events.js';
import type { GrantState, GroupState, MemberState } from '../../tenancy/membership.state.js';
import type { CommandOutcome, TenantCommandExecutor } from '../commands/tenant-command.executor.js';
import type { WriteResult } from '../commands/write-results.js';

export interface MemberBody {
  readonly tenantId: string;
  readonly userId: string;
  readonly displayName: string | null;
}

export interface GroupBody {
  readonly tenantId: string;
  readonly groupId: string;
  readonly name: string;
  readonly memberCount: number;
}

export interface GroupMemberBody {
  readonly tenantId: string;
  readonly groupId: string;
  readonly userId: string;
}

export interface GrantBody {
  readonly tenantId: string;
  readonly grantId: string;
  readonly principal: PrincipalRef;
  readonly role: Role;
  /** null: the whole tenant. */
  readonly workspaceId: string | null;
  /** 'apiKey': the role an API key was issued with (changes only with the key). */
  readonly origin: 'grant' | 'apiKey';
}

export function memberBody(tenantId: string, member: MemberState): MemberBody {
  return { tenantId, userId: member.userId, displayName: member.displayName };
}

export function groupBody(tenantId: string, group: GroupState): GroupBody {
  return { tenantId, groupId: group.groupId, name: group.name, memberCount: group.members.size };
}

export function grantBody(tenantId: string, grant: GrantState): GrantBody {
  const { grantId, principal, role, workspaceId } = grant;
  return {
    tenantId,
    grantId,
    principal,
    role,
    workspaceId,
    origin: grant.origin === 'api-key' ? 'apiKey' : 'grant',
  };
}

/** What a membership write answers: its body, the stream revision and the position to read after. */
export async function membershipWrite<Body>(
  tenants: TenantCommandExecutor,
  tenantId: string,
  outcome: CommandOutcome,
  body: Body,
): Promise<WriteResult<Body>> {
  return {
    changed: outcome.events.length > 0,
    body,
    revision: outcome.revision ?? 0,
    position: outcome.position ?? (await tenants.positionAt(tenantId)),
  };
}

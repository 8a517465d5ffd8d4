import type { PrincipalRef, Role } from '../../tenancy/membership.events.js';
import type { GrantState, GroupState, MemberState } from '../../tenancy/membership.state.js';

export interface MemberBody {
  readonly tenantId: string;
  readonly userId: string;
  /** The plain display name; null when none was given or it was erased. */
  readonly displayName: string | null;
  /** Present (true) when the member's personal data has been erased and nothing given since. */
  readonly personalDataErased?: true;
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

/** `displayName` is the member's name in plain text (revealed by the caller); `erased` says why it is null. */
export function memberBody(
  tenantId: string,
  member: MemberState,
  displayName: string | null,
  erased: boolean,
): MemberBody {
  return { tenantId, userId: member.userId, displayName, ...(erased ? { personalDataErased: true } : {}) };
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

import type { TenantAtPoint, WorkspaceAtPoint } from '../application/queries/tenant-at-point.js';
import { plural } from './output.js';

/** An indented tree with box-drawing guides, one workspace per line. */
export function renderTenantTree(tenant: TenantAtPoint): string {
  if (tenant.status === 'none') {
    return `Tenant ${tenant.tenantId} did not exist at that point.\n`;
  }
  const lines = [
    `Tenant ${tenant.name ?? '?'} (${tenant.tenantId}): ${tenant.status}`,
    `as of revision ${tenant.revision}, position ${tenant.position}, recorded ${tenant.recordedAt}`,
    `${tenant.workspaces.length} workspace${tenant.workspaces.length === 1 ? '' : 's'}`,
    '',
  ];
  const isLast = lastAmongSiblings(tenant.workspaces);
  // For each depth, whether the workspace drawn last at that depth has siblings still to come.
  const continues: boolean[] = [];
  tenant.workspaces.forEach((workspace, index) => {
    const last = isLast[index] === true;
    const guides = continues
      .slice(1, workspace.depth)
      .map((more) => (more ? '│   ' : '    '))
      .join('');
    const branch = workspace.depth === 0 ? '' : last ? '└── ' : '├── ';
    const flag = workspace.status === 'deleting' ? '  [deleting]' : '';
    lines.push(`${guides}${branch}${workspace.name}  (${workspace.workspaceId})${flag}`);
    continues[workspace.depth] = !last;
    continues.length = workspace.depth + 1;
  });
  return `${[...lines, ...membershipLines(tenant)].join('\n')}\n`;
}

/** Members, groups and grants under the tree, naming groups and workspaces as they were then. */
function membershipLines(tenant: TenantAtPoint): string[] {
  const groupNames = new Map(tenant.groups.map((group) => [group.groupId, group.name]));
  const workspaceNames = new Map(
    tenant.workspaces.map((workspace) => [workspace.workspaceId, workspace.name]),
  );
  const lines = ['', plural(tenant.members.length, 'member')];
  for (const member of tenant.members) {
    const name =
      member.displayName !== null
        ? ` (${member.displayName})`
        : member.personalDataErased === true
          ? ' (personal data erased)'
          : '';
    const groups = member.groupIds.map((groupId) => groupNames.get(groupId) ?? groupId);
    lines.push(`  ${member.userId}${name}${groups.length > 0 ? `  in ${groups.join(', ')}` : ''}`);
  }
  lines.push('', plural(tenant.groups.length, 'group'));
  for (const group of tenant.groups) {
    lines.push(`  ${group.name}  (${group.groupId})  ${plural(group.members.length, 'member')}`);
  }
  lines.push('', plural(tenant.grants.length, 'grant'));
  for (const grant of tenant.grants) {
    const who =
      grant.principal.type === 'group'
        ? `group ${groupNames.get(grant.principal.id) ?? grant.principal.id}`
        : `${grant.principal.type === 'apiKey' ? 'API key' : 'user'} ${grant.principal.id}`;
    const where =
      grant.workspaceId === null
        ? 'the tenant'
        : `${workspaceNames.get(grant.workspaceId) ?? '?'} (${grant.workspaceId})`;
    const origin = grant.origin === 'apiKey' ? "  [the key's own role]" : '';
    lines.push(`  ${grant.role} on ${where} to ${who}  (${grant.grantId})${origin}`);
  }
  return lines;
}

/** One backwards pass over the tree order, so that wide or deep trees cost O(n), not O(n²). */
function lastAmongSiblings(workspaces: readonly WorkspaceAtPoint[]): boolean[] {
  const isLast: boolean[] = new Array<boolean>(workspaces.length);
  const siblingFollows: boolean[] = [];
  for (let index = workspaces.length - 1; index >= 0; index--) {
    const depth = workspaces[index]!.depth;
    // Anything deeper seen so far belonged to this workspace's subtree, not to its siblings' level.
    siblingFollows.length = Math.min(siblingFollows.length, depth + 1);
    isLast[index] = siblingFollows[depth] !== true;
    siblingFollows[depth] = true;
  }
  return isLast;
}

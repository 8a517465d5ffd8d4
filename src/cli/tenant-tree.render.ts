import type { TenantAtPoint, WorkspaceAtPoint } from '../application/queries/tenant-at-point.js';

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
  return `${lines.join('\n')}\n`;
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

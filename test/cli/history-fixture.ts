import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../../src/application/commands/command-context.js';
import type {
  CommandOutcome,
  TenantCommandExecutor,
} from '../../src/application/commands/tenant-command.executor.js';
import type { Position } from '../../src/event-store/event-store.port.js';
import type { TenancyCommand } from '../../src/tenancy/tenancy.commands.js';
import { rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';
import type { TenantState } from '../../src/tenancy/tenant.state.js';

/** A live workspace as a plain row, comparable across the ways a tree is rebuilt. */
export interface WorkspaceRow {
  readonly workspaceId: string;
  readonly parentWorkspaceId: string | null;
  readonly name: string;
  readonly status: string;
}

export interface TreeSnapshot {
  readonly tenantId: string;
  readonly position: Position;
  readonly status: string;
  readonly workspaces: readonly WorkspaceRow[];
}

export function rowsOf(workspaces: Iterable<WorkspaceRow>): WorkspaceRow[] {
  return [...workspaces]
    .filter((workspace) => workspace.status !== 'deleted')
    .map(({ workspaceId, parentWorkspaceId, name, status }) => ({
      workspaceId,
      parentWorkspaceId,
      name,
      status,
    }))
    .sort((a, b) => a.workspaceId.localeCompare(b.workspaceId));
}

/** Deterministic, so a failing run can be repeated. */
function seededRandom(seed: number): () => number {
  let value = seed;
  return () => {
    value = (value * 1_103_515_245 + 12_345) % 2_147_483_648;
    return value / 2_147_483_648;
  };
}

export interface HistoryFixture {
  readonly liveTenantId: string;
  readonly deletedTenantId: string;
  /** The domain's own state right after chosen commands, with the position of their last event. */
  readonly snapshots: readonly TreeSnapshot[];
  /** A moment between two snapshots, with the snapshot that was current then. */
  readonly timePoint: { readonly time: Date; readonly snapshot: TreeSnapshot };
  /** The live tenant's tree as the test itself tracked it, command by command, without the domain's fold. */
  readonly expectedFinalTree: readonly WorkspaceRow[];
  readonly commandsIssued: number;
}

/**
 * Writes thousands of events through the service's command path: two tenants with deep trees,
 * renames, plain deletes, cascades driven with ContinueDeletion, and one tenant deleted entirely.
 */
export async function writeHistory(
  executor: TenantCommandExecutor,
  createTenant: (tenantId: string) => Promise<void>,
): Promise<HistoryFixture> {
  const random = seededRandom(7);
  const snapshots: TreeSnapshot[] = [];
  let commandsIssued = 0;
  const context = (): CommandContext => ({
    actor: 'history-test',
    correlationId: randomUUID(),
    causationId: randomUUID(),
    now: new Date(),
  });
  const execute = async (command: TenancyCommand): Promise<CommandOutcome> => {
    commandsIssued++;
    return executor.execute(command, context());
  };
  const snapshot = (tenantId: string, outcome: CommandOutcome): TreeSnapshot => {
    if (outcome.position === undefined) throw new Error('a snapshot needs a command that appended');
    return snapshotOf(tenantId, outcome.state, outcome.position);
  };

  // The test's own model of the live tenant: id -> parent and name.
  const liveTenantId = randomUUID();
  const root = rootWorkspaceIdOf(liveTenantId);
  const model = new Map<string, { parent: string | null; name: string }>();
  const childrenInModel = (id: string) =>
    [...model].filter(([, entry]) => entry.parent === id).map(([child]) => child);
  const subtreeInModel = (id: string): string[] => [id, ...childrenInModel(id).flatMap(subtreeInModel)];

  await createTenant(liveTenantId);
  model.set(root, { parent: null, name: 'Root' });
  const ids: string[] = [root];
  for (let i = 0; i < 1500; i++) {
    const parent = ids[Math.floor(random() * ids.length)]!;
    const workspaceId = randomUUID();
    const outcome = await execute({
      type: 'CreateWorkspace',
      tenantId: liveTenantId,
      workspaceId,
      parentWorkspaceId: parent,
      name: `ws ${i}`,
    });
    ids.push(workspaceId);
    model.set(workspaceId, { parent, name: `ws ${i}` });
    if (i % 300 === 299) snapshots.push(snapshot(liveTenantId, outcome));
  }

  for (let i = 0; i < 400; i++) {
    const workspaceId = ids[Math.floor(random() * ids.length)]!;
    const name = `renamed ${i}`;
    const outcome = await execute({ type: 'RenameWorkspace', tenantId: liveTenantId, workspaceId, name });
    model.get(workspaceId)!.name = name;
    if (i === 199 || i === 399) snapshots.push(snapshot(liveTenantId, outcome));
  }

  await new Promise((resolve) => setTimeout(resolve, 50));
  const time = new Date();
  const timeSnapshot = snapshots[snapshots.length - 1]!;
  await new Promise((resolve) => setTimeout(resolve, 50));

  // Plain deletes of leaves.
  let leavesDeleted = 0;
  for (const workspaceId of [...ids].reverse()) {
    if (leavesDeleted >= 60) break;
    if (workspaceId === root || !model.has(workspaceId) || childrenInModel(workspaceId).length > 0) continue;
    const outcome = await execute({
      type: 'DeleteWorkspace',
      tenantId: liveTenantId,
      workspaceId,
      cascade: false,
    });
    model.delete(workspaceId);
    leavesDeleted++;
    if (leavesDeleted === 30) snapshots.push(snapshot(liveTenantId, outcome));
  }

  // Cascades: the two largest subtrees under the root, each children-first in batches.
  const cascadeTops = childrenInModel(root)
    .map((id) => ({ id, size: subtreeInModel(id).length }))
    .sort((a, b) => b.size - a.size)
    .slice(0, 2)
    .map(({ id }) => id);
  for (const top of cascadeTops) {
    const started = await execute({
      type: 'DeleteWorkspace',
      tenantId: liveTenantId,
      workspaceId: top,
      cascade: true,
    });
    snapshots.push(snapshot(liveTenantId, started));
    let batches = 0;
    for (;;) {
      const outcome = await execute({ type: 'ContinueDeletion', tenantId: liveTenantId, maxBatch: 25 });
      if (outcome.events.length === 0) break;
      if (++batches === 2) snapshots.push(snapshot(liveTenantId, outcome));
    }
    for (const id of subtreeInModel(top)) model.delete(id);
  }
  const lastRename = await execute({
    type: 'RenameWorkspace',
    tenantId: liveTenantId,
    workspaceId: root,
    name: 'Top',
  });
  model.get(root)!.name = 'Top';
  snapshots.push(snapshot(liveTenantId, lastRename));

  // A second tenant that is deleted entirely.
  const deletedTenantId = randomUUID();
  await createTenant(deletedTenantId);
  const otherIds = [rootWorkspaceIdOf(deletedTenantId)];
  for (let i = 0; i < 400; i++) {
    const workspaceId = randomUUID();
    const outcome = await execute({
      type: 'CreateWorkspace',
      tenantId: deletedTenantId,
      workspaceId,
      parentWorkspaceId: otherIds[Math.floor(random() * otherIds.length)]!,
      name: `other ${i}`,
    });
    otherIds.push(workspaceId);
    if (i === 399) snapshots.push(snapshot(deletedTenantId, outcome));
  }
  snapshots.push(
    snapshot(deletedTenantId, await execute({ type: 'DeleteTenant', tenantId: deletedTenantId })),
  );
  for (;;) {
    const outcome = await execute({ type: 'ContinueDeletion', tenantId: deletedTenantId, maxBatch: 50 });
    if (outcome.events.length === 0) break;
    snapshots.push(snapshot(deletedTenantId, outcome));
  }

  const expectedFinalTree = rowsOf(
    [...model].map(([workspaceId, entry]) => ({
      workspaceId,
      parentWorkspaceId: entry.parent,
      name: entry.name,
      status: 'live',
    })),
  );
  return {
    liveTenantId,
    deletedTenantId,
    snapshots,
    timePoint: { time, snapshot: timeSnapshot },
    expectedFinalTree,
    commandsIssued,
  };
}

function snapshotOf(tenantId: string, state: TenantState, position: Position): TreeSnapshot {
  // Taken at once: the executor's state object changes in place with the next command.
  return { tenantId, position, status: state.status, workspaces: rowsOf(state.workspaces.values()) };
}

import { randomUUID } from 'node:crypto';
import { expect } from '@jest/globals';
import { TenantCommandExecutor } from '../../src/application/commands/tenant-command.executor.js';
import type { EventStore, RecordedEvent } from '../../src/event-store/event-store.port.js';
import { toEventToAppend, type EventOrigin } from '../../src/stored-events/event-metadata.js';
import { rootWorkspaceCreated, rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import type { TenancyCommand } from '../../src/tenancy/tenancy.commands.js';
import { decide, evolve, initialState } from '../../src/tenancy/tenancy.decider.js';
import type { TenantState } from '../../src/tenancy/tenant.state.js';
import type { TestApp } from './test-app.js';

/** A command context for tests: who acts, fresh correlation and causation ids, now. */
export const contextOf = (actor: string) => ({
  actor,
  correlationId: randomUUID(),
  causationId: randomUUID(),
  now: new Date(),
});
const context = () => contextOf('test');

/**
 * Runs commands through the decider from a new tenant, appends each one's events to the store as
 * the command path would, and returns the tenant's stream as recorded, with real revisions and
 * positions.
 */
export async function recordCommands(
  store: EventStore,
  tenantId: string,
  commands: readonly TenancyCommand[],
  commandContext: EventOrigin = context(),
): Promise<RecordedEvent[]> {
  let state: TenantState = initialState();
  let revision: number | undefined;
  for (const command of commands) {
    const events = decide(command, state);
    if (events.length === 0) continue;
    const result = await store.appendToStream(
      tenantStreamName(tenantId),
      events.map((event) => toEventToAppend(event, commandContext)),
      revision ?? 'no_stream',
    );
    revision = result.nextExpectedRevision;
    for (const event of events) state = evolve(state, event);
  }
  const recorded: RecordedEvent[] = [];
  for await (const event of store.readStream(tenantStreamName(tenantId))) recorded.push(event);
  return recorded;
}

/**
 * Appends a tenant's history straight to the store, as another instance would have written it:
 * TenantCreated, its root, and workspaces under the root up to `events` events in all. Returns its id.
 */
export async function writeFlatTenant(
  store: EventStore,
  events: number,
  actor = 'elsewhere',
): Promise<string> {
  const tenantId = randomUUID();
  const history = [
    { type: 'TenantCreated' as const, data: { tenantId, name: `flat ${tenantId}` } },
    rootWorkspaceCreated(tenantId),
    ...Array.from({ length: events - 2 }, (_, index) => ({
      type: 'WorkspaceCreated' as const,
      data: {
        tenantId,
        workspaceId: randomUUID(),
        parentWorkspaceId: rootWorkspaceIdOf(tenantId),
        name: `w${index}`,
        isRoot: false,
      },
    })),
  ];
  const context = contextOf(actor);
  await store.appendToStream(
    tenantStreamName(tenantId),
    history.map((event) => toEventToAppend(event, context)),
    'no_stream',
  );
  return tenantId;
}

/** Creates a tenant with a tree of the given fan-out per level, through the command path. Returns its id. */
export async function buildTree(app: TestApp, fanOut: number[]): Promise<string> {
  const executor = app.app.get(TenantCommandExecutor);
  const tenantId = randomUUID();
  await executor.execute({ type: 'CreateTenant', tenantId, name: `Tree ${tenantId}` }, context());
  let parents: (string | undefined)[] = [undefined];
  for (const width of fanOut) {
    const next: string[] = [];
    for (const parent of parents) {
      for (let i = 0; i < width; i++) {
        const workspaceId = randomUUID();
        await executor.execute(
          {
            type: 'CreateWorkspace',
            tenantId,
            workspaceId,
            name: `W${i}`,
            ...(parent ? { parentWorkspaceId: parent } : {}),
          },
          context(),
        );
        next.push(workspaceId);
      }
    }
    parents = next;
  }
  return tenantId;
}

/** Every WorkspaceDeleted comes after those of all the workspace's children; for a tenant, the root last and TenantDeleted at the end. */
export async function expectChildrenFirst(app: TestApp, tenantId: string, wholeTenant = true): Promise<void> {
  const { rows } = await app.database.pool.query<{
    type: string;
    data: { workspaceId?: string; parentWorkspaceId?: string | null; isRoot?: boolean };
  }>(`SELECT event_type AS type, data FROM events WHERE stream_name = $1 ORDER BY stream_revision`, [
    `tenant-${tenantId}`,
  ]);
  const deletedAt = new Map<string, number>();
  rows.forEach((row, index) => {
    if (row.type === 'WorkspaceDeleted' && row.data.workspaceId) {
      expect(deletedAt.has(row.data.workspaceId)).toBe(false);
      deletedAt.set(row.data.workspaceId, index);
    }
  });
  const created = rows.filter((row) => row.type === 'WorkspaceCreated');
  for (const row of created) {
    const parent = row.data.parentWorkspaceId;
    const child = row.data.workspaceId as string;
    if (parent && deletedAt.has(parent)) {
      expect(deletedAt.get(child)).toBeLessThan(deletedAt.get(parent) as number);
    }
  }
  if (wholeTenant) {
    expect(deletedAt.size).toBe(created.length);
    expect(rows[rows.length - 1]?.type).toBe('TenantDeleted');
    const lastDeleted = [...rows].reverse().find((row) => row.type === 'WorkspaceDeleted');
    expect(lastDeleted?.data.isRoot).toBe(true);
  }
}

import { randomUUID } from 'node:crypto';
import { toEventToAppend } from '../../src/stored-events/event-metadata.js';
import type { CommandContext } from '../../src/application/commands/command-context.js';
import {
  ConcurrencyError,
  type EventStore,
  type EventToAppend,
} from '../../src/event-store/event-store.port.js';
import { actorName } from '../../src/http/auth/actor.js';
import { resourceNameKey } from '../../src/tenancy/resource-name.js';
import type { TenancyEvent, WorkspaceCreated } from '../../src/tenancy/tenancy.events.js';
import { tenantNameReserved, tenantNameStreamName } from '../../src/tenancy/tenant-name-reservation.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { rootWorkspaceCreated, rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';

/** The context a request by the operator gives its events (src/http/request-context.ts). */
export function operatorContext(): CommandContext {
  const requestId = randomUUID();
  return {
    actor: actorName({ kind: 'operator', id: 'operator' }),
    correlationId: requestId,
    causationId: requestId,
    now: new Date(),
  };
}

/** A domain event wrapped exactly as the service stores it (stored-events/event-metadata.ts). */
export function stored(event: TenancyEvent, context: CommandContext = operatorContext()): EventToAppend {
  return toEventToAppend(event, context);
}

export function workspaceCreated(
  tenantId: string,
  workspaceId: string,
  parentWorkspaceId: string,
  name: string,
): WorkspaceCreated {
  return {
    type: 'WorkspaceCreated',
    data: { tenantId, workspaceId, parentWorkspaceId, name, isRoot: false },
  };
}

/** The events a fresh tenant's history starts with: name reservation (own stream), created, root. */
export function tenantBirth(
  tenantId: string,
  name: string,
): { reservation: { stream: string; event: EventToAppend }; tenant: EventToAppend[] } {
  const context = operatorContext();
  const key = resourceNameKey(name);
  return {
    reservation: {
      stream: tenantNameStreamName(key),
      event: toEventToAppend(tenantNameReserved(tenantId, name, key), context),
    },
    tenant: [
      toEventToAppend({ type: 'TenantCreated', data: { tenantId, name } }, context),
      toEventToAppend(rootWorkspaceCreated(tenantId), context),
    ],
  };
}

export interface TreeShape {
  /** How many workspaces to create at each depth, depth 1 first; parents are spread round-robin. */
  readonly perDepth: readonly number[];
}

export interface PlannedWorkspace {
  readonly workspaceId: string;
  readonly parentWorkspaceId: string;
  readonly depth: number;
  readonly name: string;
}

/** Plans a workspace tree under the tenant's root (or under `top`), parents before children. */
export function planTree(
  tenantId: string,
  shape: TreeShape,
  namePrefix: string,
  top: string = rootWorkspaceIdOf(tenantId),
): PlannedWorkspace[] {
  const planned: PlannedWorkspace[] = [];
  let parents = [top];
  shape.perDepth.forEach((count, index) => {
    const level: string[] = [];
    for (let i = 0; i < count; i++) {
      const workspaceId = randomUUID();
      planned.push({
        workspaceId,
        parentWorkspaceId: parents[i % parents.length] as string,
        depth: index + 1,
        name: `${namePrefix}-d${index + 1}-${i}`,
      });
      level.push(workspaceId);
    }
    if (level.length > 0) parents = level;
  });
  return planned;
}

/**
 * Appends the planned workspaces to the tenant's stream through the EventStore port, `batch` events
 * per append, each append with the stream's current revision as its expectation (so a process manager
 * appending at the same time costs a retry, never a lost or duplicated event).
 */
export async function seedWorkspaces(
  store: EventStore,
  tenantId: string,
  planned: readonly PlannedWorkspace[],
  batch = 1_000,
): Promise<{ appended: number; appends: number }> {
  const stream = tenantStreamName(tenantId);
  let appends = 0;
  for (let start = 0; start < planned.length; start += batch) {
    const context = operatorContext();
    const events = planned
      .slice(start, start + batch)
      .map((w) =>
        toEventToAppend(workspaceCreated(tenantId, w.workspaceId, w.parentWorkspaceId, w.name), context),
      );
    for (let attempt = 1; ; attempt++) {
      const revision = await store.streamRevision(stream);
      try {
        await store.appendToStream(stream, events, revision ?? 'no_stream');
        appends += 1;
        break;
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= 20) throw error;
      }
    }
  }
  return { appended: planned.length, appends };
}

/** Spreads `total` workspaces over `depth` levels with `top` workspaces at depth 1. */
export function shapeFor(total: number, depth: number, top: number): TreeShape {
  if (depth <= 1 || total <= top) return { perDepth: [total] };
  // Each level grows by the same factor so the deepest level is reached with about `total` in all.
  const perDepth: number[] = [top];
  let remaining = total - top;
  for (let level = 2; level <= depth; level++) {
    const levelsLeft = depth - level + 1;
    const count = level === depth ? remaining : Math.max(1, Math.floor(remaining / levelsLeft));
    perDepth.push(count);
    remaining -= count;
  }
  return { perDepth };
}

import type { JsonObject } from '../../event-store/event-store.port.js';
import { tenantIdOfStream } from '../../tenancy/tenant-stream.js';
import { UpcastError, type UpcastContext, type Upcaster } from './upcaster.js';

/**
 * Schema version 0 of the workspace events carried no tenantId: the tenant was implied by the stream
 * (`tenant-<id>`), which left consumers of the global log to parse stream names. WorkspaceCreated also
 * lacked isRoot, which follows from the parent: only the root has none.
 *
 * A v0 event that already carries one of these fields (written during the switch-over) keeps its
 * own value; the stream only fills what is missing.
 */
export const workspaceEventsV0Upcasters: readonly Upcaster[] = [
  {
    type: 'WorkspaceCreated',
    fromVersion: 0,
    upcast: (data, context) => ({
      ...data,
      tenantId: data.tenantId ?? tenantIdFromStream(context),
      isRoot: data.isRoot ?? data.parentWorkspaceId === null,
    }),
  },
  {
    type: 'WorkspaceRenamed',
    fromVersion: 0,
    upcast: withTenantIdFromStream,
  },
  {
    type: 'WorkspaceDeleted',
    fromVersion: 0,
    upcast: withTenantIdFromStream,
  },
];

function withTenantIdFromStream(data: JsonObject, context: UpcastContext): JsonObject {
  return { ...data, tenantId: data.tenantId ?? tenantIdFromStream(context) };
}

function tenantIdFromStream(context: UpcastContext): string {
  const tenantId = tenantIdOfStream(context.streamName);
  if (tenantId === undefined) {
    // Outside a tenant stream the tenant is unknowable; guessing would attach the event to nobody.
    throw new UpcastError(
      `a schema version 0 workspace event outside a tenant stream: ${context.streamName}`,
    );
  }
  return tenantId;
}

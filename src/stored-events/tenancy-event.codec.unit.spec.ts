import { describe, expect, it } from '@jest/globals';
import type { JsonObject, Position, RecordedEvent } from '../event-store/event-store.port.js';
import { decide, evolve, initialState } from '../tenancy/tenancy.decider.js';
import { CURRENT_SCHEMA_VERSION } from '../tenancy/tenancy.events.js';
import { rootWorkspaceIdOf } from '../tenancy/root-workspace.js';
import { decodeRecorded, decodeTenancyEvent, UnknownEventError } from './tenancy-event.codec.js';

const TENANT = '0b7e6f4c-2d1a-4e8b-9c3f-5a6b7c8d9e0f';
const ROOT = rootWorkspaceIdOf(TENANT);
const CHILD = '00000000-0000-4000-8000-000000000001';
const V0_METADATA = {
  correlationId: 'c',
  causationId: 'c',
  actor: 'operator',
  occurredAt: '2024-01-01T00:00:00.000Z',
};

let revision = 0;
const recorded = (type: string, data: JsonObject, metadata: JsonObject = V0_METADATA): RecordedEvent => ({
  id: `00000000-0000-4000-8000-${String(revision).padStart(12, '0')}`,
  type,
  data,
  metadata,
  streamName: `tenant-${TENANT}`,
  revision: revision++,
  position: `0000000000000001-${revision.toString(16).padStart(16, '0')}` as Position,
  recordedAt: new Date(0),
});

describe('decodeTenancyEvent', () => {
  it('upcasts the v0 workspace events so that the domain folds them like current ones', () => {
    const stream = [
      recorded('TenantCreated', { tenantId: TENANT, name: 'Acme' }),
      recorded('WorkspaceCreated', { workspaceId: ROOT, parentWorkspaceId: null, name: 'Root' }),
      recorded(
        'WorkspaceCreated',
        { workspaceId: CHILD, parentWorkspaceId: ROOT, name: 'A' },
        { ...V0_METADATA, schemaVersion: 0 },
      ),
      recorded('WorkspaceRenamed', { workspaceId: CHILD, name: 'B' }),
    ];
    const state = stream.map(decodeTenancyEvent).reduce(evolve, initialState());
    expect(state.rootWorkspaceId).toBe(ROOT);
    expect(state.workspaces.get(CHILD)).toMatchObject({ name: 'B', parentWorkspaceId: ROOT, isRoot: false });
    // The domain's rules hold on the upcast state: a rename now produces a current-shape event.
    expect(
      decide({ type: 'RenameWorkspace', tenantId: TENANT, workspaceId: CHILD, name: 'C' }, state),
    ).toEqual([{ type: 'WorkspaceRenamed', data: { tenantId: TENANT, workspaceId: CHILD, name: 'C' } }]);
  });

  it('leaves current events as stored', () => {
    const data = { tenantId: TENANT, workspaceId: CHILD, name: 'B' };
    const event = decodeTenancyEvent(
      recorded('WorkspaceRenamed', data, { ...V0_METADATA, schemaVersion: 1 }),
    );
    expect(event).toEqual({ type: 'WorkspaceRenamed', data });
  });

  it('refuses an unknown type, a newer schema version and a schemaVersion that is not a number', () => {
    expect(() => decodeTenancyEvent(recorded('TenantNameReserved', {}))).toThrow(UnknownEventError);
    expect(() =>
      decodeTenancyEvent(recorded('TenantCreated', { tenantId: TENANT, name: 'x' }, { schemaVersion: 99 })),
    ).toThrow(/newer/);
    expect(() =>
      decodeTenancyEvent(recorded('TenantCreated', { tenantId: TENANT, name: 'x' }, { schemaVersion: '1' })),
    ).toThrow(UnknownEventError);
  });
});

describe('decodeRecorded', () => {
  it('publishes the upcast event with metadata at the current version and says what was stored', () => {
    const stored = recorded('WorkspaceDeleted', {
      workspaceId: CHILD,
      parentWorkspaceId: ROOT,
      isRoot: false,
      reason: 'requested',
    });
    const decoded = decodeRecorded(stored);
    expect(decoded.event.data).toMatchObject({ tenantId: TENANT, workspaceId: CHILD });
    expect(decoded.metadata).toEqual({ ...V0_METADATA, schemaVersion: CURRENT_SCHEMA_VERSION });
    expect(decoded.storedSchemaVersion).toBe(0);
    expect(decoded.recorded).toBe(stored);
    // Decoding must not touch what was read from the store.
    expect(stored.data).not.toHaveProperty('tenantId');
    expect(stored.metadata).not.toHaveProperty('schemaVersion');
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { decodeTenancyEvent } from '../../src/stored-events/tenancy-event.codec.js';
import type { JsonObject } from '../../src/event-store/event-store.port.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { loadEventSchemaValidator } from './event-schema.validator.js';
import { CURRENT_SCHEMA_VERSION } from '../../src/tenancy/tenancy.events.js';

/**
 * A tenant written by the release before schema versions: workspace events without tenantId,
 * WorkspaceCreated without isRoot, metadata without schemaVersion. Appended straight to the store, as
 * the old release left them.
 */
describe('schema version 0 events in the store', () => {
  let app: TestApp;
  const http = () => request(app.server);
  const tenantId = randomUUID();
  const root = rootWorkspaceIdOf(tenantId);
  const child = randomUUID();
  const leaf = randomUUID();
  const oldMetadata = () => ({
    correlationId: 'legacy-import',
    causationId: randomUUID(),
    actor: 'operator',
    occurredAt: '2023-06-01T08:00:00.000Z',
  });
  const storedRows = async () =>
    (
      await app.database.pool.query<{ event_type: string; data: JsonObject; metadata: JsonObject }>(
        'SELECT event_type, data, metadata FROM events WHERE stream_name = $1 ORDER BY stream_revision',
        [tenantStreamName(tenantId)],
      )
    ).rows;

  beforeAll(async () => {
    app = await startTestApp();
    // One append, so the root bootstrap process manager finds the root already there.
    await app.runtime.eventStore.appendToStream(
      tenantStreamName(tenantId),
      [
        { type: 'TenantCreated', data: { tenantId, name: `Legacy ${tenantId}` }, metadata: oldMetadata() },
        {
          type: 'WorkspaceCreated',
          data: { workspaceId: root, parentWorkspaceId: null, name: 'Root' },
          metadata: oldMetadata(),
        },
        {
          type: 'WorkspaceCreated',
          data: { workspaceId: child, parentWorkspaceId: root, name: 'Old child' },
          metadata: { ...oldMetadata(), schemaVersion: 0 },
        },
        {
          type: 'WorkspaceCreated',
          data: { workspaceId: leaf, parentWorkspaceId: child, name: 'Leaf' },
          metadata: oldMetadata(),
        },
        {
          type: 'WorkspaceRenamed',
          data: { workspaceId: child, name: 'Renamed long ago' },
          metadata: oldMetadata(),
        },
        {
          type: 'WorkspaceDeleted',
          data: { workspaceId: leaf, parentWorkspaceId: child, isRoot: false, reason: 'requested' },
          metadata: oldMetadata(),
        },
      ],
      'no_stream',
    );
  });
  afterAll(async () => {
    await app.close();
  });

  it('are stored in the old shape, which the catalog describes as version 0', async () => {
    const validator = await loadEventSchemaValidator();
    const rows = await storedRows();
    expect(rows.slice(1).every((row) => !('tenantId' in row.data))).toBe(true);
    validator.assertAllValid(
      rows.map((row) => ({ type: row.event_type, data: row.data, metadata: row.metadata })),
    );
  });

  it('read back through the codec in the current shape', async () => {
    const decoded = [];
    for await (const recorded of app.runtime.eventStore.readStream(tenantStreamName(tenantId), {
      maxCount: 6,
    })) {
      decoded.push(decodeTenancyEvent(recorded));
    }
    expect(decoded).toEqual([
      { type: 'TenantCreated', data: { tenantId, name: `Legacy ${tenantId}` } },
      {
        type: 'WorkspaceCreated',
        data: { tenantId, workspaceId: root, parentWorkspaceId: null, name: 'Root', isRoot: true },
      },
      {
        type: 'WorkspaceCreated',
        data: { tenantId, workspaceId: child, parentWorkspaceId: root, name: 'Old child', isRoot: false },
      },
      {
        type: 'WorkspaceCreated',
        data: { tenantId, workspaceId: leaf, parentWorkspaceId: child, name: 'Leaf', isRoot: false },
      },
      { type: 'WorkspaceRenamed', data: { tenantId, workspaceId: child, name: 'Renamed long ago' } },
      {
        type: 'WorkspaceDeleted',
        data: { tenantId, workspaceId: leaf, parentWorkspaceId: child, isRoot: false, reason: 'requested' },
      },
    ]);
  });

  it('carry the command path: renaming a workspace a v0 event created works and writes the current shape', async () => {
    const before = await storedRows();
    const response = await http()
      .patch(`/v1/tenants/${tenantId}/workspaces/${child}`)
      .set(AUTH)
      .send({ name: 'New name' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ workspaceId: child, name: 'New name', parentWorkspaceId: root });
    const sibling = await http()
      .post(`/v1/tenants/${tenantId}/workspaces`)
      .set(AUTH)
      .send({ name: 'New name', parentWorkspaceId: root });
    expect(sibling.status).toBe(409);

    const after = await storedRows();
    // Reading never rewrote what was stored: the old rows are byte for byte what they were.
    expect(after.slice(0, before.length)).toEqual(before);
    const renamed = after.find(
      (row) => row.event_type === 'WorkspaceRenamed' && row.data.name === 'New name',
    );
    expect(renamed?.data).toEqual({ tenantId, workspaceId: child, name: 'New name' });
    expect(renamed?.metadata.schemaVersion).toBe(CURRENT_SCHEMA_VERSION);
  });

  it('reach the feed upcast, with metadata at the current version', async () => {
    const response = await http().get('/v1/events').set(AUTH).query({ tenantId, limit: 6 });
    expect(response.status).toBe(200);
    const items = response.body.items as { type: string; data: JsonObject; metadata: JsonObject }[];
    expect(items).toHaveLength(6);
    for (const item of items) {
      expect(item.data.tenantId).toBe(tenantId);
      expect(item.metadata).toEqual({
        ...item.metadata,
        schemaVersion: CURRENT_SCHEMA_VERSION,
        correlationId: 'legacy-import',
      });
    }
    expect(items[2]?.data).toEqual({
      tenantId,
      workspaceId: child,
      parentWorkspaceId: root,
      name: 'Old child',
      isRoot: false,
    });
    const validator = await loadEventSchemaValidator();
    validator.assertAllValid(items);
  });
});

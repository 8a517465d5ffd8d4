import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { toEventToAppend } from '../../src/stored-events/event-metadata.js';
import type { CommandContext } from '../../src/application/commands/command-context.js';
import type { TenancyCommand } from '../../src/tenancy/tenancy.commands.js';
import { decide, evolve, initialState } from '../../src/tenancy/tenancy.decider.js';
import { loadEventSchemaCatalog } from '../../src/http/events/event-schema.catalog.js';
import {
  CURRENT_SCHEMA_VERSION,
  TENANCY_EVENT_TYPES,
  type TenancyEvent,
} from '../../src/tenancy/tenancy.events.js';
import { rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';
import { newKeyMaterial, seal } from '../../src/personal-data/personal-data.cipher.js';
import type { TenantState } from '../../src/tenancy/tenant.state.js';
import {
  loadEventSchemaValidator,
  type EventSchemaValidator,
  type EventToValidate,
} from './event-schema.validator.js';

const V0_TYPES = [
  'TenantCreated',
  'WorkspaceCreated',
  'WorkspaceRenamed',
  'WorkspaceDeletionStarted',
  'WorkspaceDeleted',
  'TenantDeletionStarted',
  'TenantDeleted',
];

/**
 * Runs a tenant through its whole life with the real decider and wraps every event it emits with the
 * metadata the application writes, as the command path does.
 */
function broadScenario(): EventToValidate[] {
  const tenantId = randomUUID();
  const root = rootWorkspaceIdOf(tenantId);
  let state: TenantState = initialState();
  const emitted: EventToValidate[] = [];
  const context: CommandContext = {
    actor: 'operator',
    correlationId: randomUUID(),
    causationId: randomUUID(),
    now: new Date('2025-03-01T12:00:00Z'),
  };
  const run = (command: TenancyCommand): TenancyEvent[] => {
    const events = decide(command, state);
    for (const event of events) {
      state = evolve(state, event);
      const { type, data, metadata } = toEventToAppend(event, context);
      emitted.push({ type, data, metadata: metadata ?? {} });
    }
    return events;
  };
  const drainDeletion = () => {
    while (run({ type: 'ContinueDeletion', tenantId, maxBatch: 3 }).length > 0);
  };

  run({
    type: 'CreateTenant',
    tenantId,
    name: '  Ünïcode Tenant ✓ ',
    adminUserId: 'auth0|5f7c8ec7c33c6c004bbafe82',
  });
  run({ type: 'BootstrapRootWorkspace', tenantId });
  const ids = Array.from({ length: 12 }, () => randomUUID());
  const [a, b, c, d, e, f, ...rest] = ids as [string, string, string, string, string, string, ...string[]];
  run({ type: 'CreateWorkspace', tenantId, workspaceId: a, name: 'A' });
  run({ type: 'CreateWorkspace', tenantId, workspaceId: b, parentWorkspaceId: a, name: 'B' });
  run({ type: 'CreateWorkspace', tenantId, workspaceId: c, parentWorkspaceId: b, name: 'C' });
  run({ type: 'CreateWorkspace', tenantId, workspaceId: d, parentWorkspaceId: a, name: 'D' });
  run({ type: 'CreateWorkspace', tenantId, workspaceId: e, name: 'E' });
  run({ type: 'CreateWorkspace', tenantId, workspaceId: f, parentWorkspaceId: e, name: 'F'.repeat(200) });
  rest.forEach((id, index) =>
    run({ type: 'CreateWorkspace', tenantId, workspaceId: id, parentWorkspaceId: f, name: `leaf ${index}` }),
  );
  run({ type: 'RenameWorkspace', tenantId, workspaceId: root, name: 'Top' });
  run({ type: 'RenameWorkspace', tenantId, workspaceId: b, name: 'b' });
  run({ type: 'DeleteWorkspace', tenantId, workspaceId: d, cascade: false });
  run({ type: 'DeleteWorkspace', tenantId, workspaceId: a, cascade: true });
  drainDeletion();
  const tenantKey = randomUUID();
  run({
    type: 'IssueApiKey',
    tenantId,
    apiKeyId: tenantKey,
    role: 'admin',
    name: 'deploy bot',
    secretHash: `sha256:${'0f'.repeat(32)}`,
    issuedAt: '2025-03-01T12:00:00.000Z',
  });
  run({
    type: 'IssueApiKey',
    tenantId,
    apiKeyId: randomUUID(),
    role: 'reader',
    workspaceId: e,
    secretHash: `sha256:${'a1'.repeat(32)}`,
    issuedAt: '2025-03-01T12:00:00Z',
  });
  // Members, groups and grants, through every reason a grant or a membership can end.
  const [ops, dev] = [randomUUID(), randomUUID()];
  const janeKey = { keyId: randomUUID(), key: newKeyMaterial() };
  const jane = { tenantId, userId: 'jane.doe@example.com' };
  run({
    type: 'AddMember',
    tenantId,
    userId: jane.userId,
    displayName: { sealed: seal(janeKey, jane, 'Jane Doe') },
  });
  run({ type: 'AddMember', tenantId, userId: 'jane.doe@example.com', displayName: null });
  run({ type: 'AddMember', tenantId, userId: 'urn:ids:42' });
  run({ type: 'CreateGroup', tenantId, groupId: ops, name: 'Ops' });
  run({ type: 'RenameGroup', tenantId, groupId: ops, name: 'Operations' });
  run({ type: 'CreateGroup', tenantId, groupId: dev, name: 'Dev' });
  run({ type: 'AddGroupMember', tenantId, groupId: ops, userId: 'jane.doe@example.com' });
  run({ type: 'AddGroupMember', tenantId, groupId: dev, userId: 'jane.doe@example.com' });
  run({ type: 'AddGroupMember', tenantId, groupId: dev, userId: 'urn:ids:42' });
  run({ type: 'RemoveGroupMember', tenantId, groupId: dev, userId: 'urn:ids:42' });
  const grant = (
    principal: { type: 'user' | 'group' | 'apiKey'; id: string },
    role: 'viewer' | 'editor' | 'admin',
    workspaceId: string | null,
  ) => {
    const grantId = randomUUID();
    run({ type: 'GrantRole', tenantId, grantId, principal, role, workspaceId });
    return grantId;
  };
  grant({ type: 'user', id: 'jane.doe@example.com' }, 'viewer', e);
  grant({ type: 'user', id: 'jane.doe@example.com' }, 'editor', e);
  const revoked = grant({ type: 'group', id: ops }, 'admin', null);
  run({ type: 'RevokeRole', tenantId, grantId: revoked });
  grant({ type: 'group', id: dev }, 'viewer', f);
  grant({ type: 'apiKey', id: tenantKey }, 'editor', e);
  grant({ type: 'user', id: 'urn:ids:42' }, 'viewer', rest[0]!);
  // The lifecycle: a move, a rename (the reservation's revision comes from the application), quotas,
  // a suspension and its end, and an erasure.
  run({ type: 'MoveWorkspace', tenantId, workspaceId: rest[1]!, parentWorkspaceId: e });
  run({ type: 'RenameTenant', tenantId, name: 'Renamed Tenant', nameReservation: 0 });
  run({ type: 'SetTenantQuotas', tenantId, quotas: { maxWorkspaces: 500, maxDepth: null } });
  run({ type: 'SuspendTenant', tenantId, reason: 'unpaid invoice 2025-02' });
  run({ type: 'ReactivateTenant', tenantId });
  run({ type: 'ErasePersonalData', tenantId, userId: 'jane.doe@example.com' });
  run({ type: 'RemoveMember', tenantId, userId: 'jane.doe@example.com' });
  run({ type: 'DeleteGroup', tenantId, groupId: dev });
  run({ type: 'RevokeApiKey', tenantId, apiKeyId: tenantKey });
  run({ type: 'DeleteWorkspace', tenantId, workspaceId: f, cascade: true });
  run({ type: 'DeleteTenant', tenantId });
  drainDeletion();
  expect(state.status).toBe('deleted');
  return emitted;
}

describe('the event catalog (schemas/events)', () => {
  let validator: EventSchemaValidator;
  let emitted: EventToValidate[];

  beforeAll(async () => {
    validator = await loadEventSchemaValidator();
    emitted = broadScenario();
  });

  it('covers every event type and deletion reason in the scenario, so the check below is broad', () => {
    expect(new Set(emitted.map((event) => event.type))).toEqual(new Set(TENANCY_EVENT_TYPES));
    const revocationReasons = emitted.flatMap((event) =>
      event.type === 'RoleRevoked' ? [(event.data as { reason: string }).reason] : [],
    );
    expect(new Set(revocationReasons)).toEqual(
      new Set([
        'requested',
        'replaced',
        'workspace-deleted',
        'member-removed',
        'group-deleted',
        'api-key-revoked',
      ]),
    );
    const reasons = emitted.flatMap((event) =>
      event.type === 'WorkspaceDeleted' ? [(event.data as { reason: string }).reason] : [],
    );
    expect(new Set(reasons)).toEqual(new Set(['requested', 'cascade', 'tenant-deleted']));
  });

  it('has a schema per event type for every version from the one that introduced it to the current one', async () => {
    const versions = new Map<string, number[]>();
    for (const entry of await loadEventSchemaCatalog()) {
      versions.set(entry.type, [...(versions.get(entry.type) ?? []), entry.schemaVersion]);
    }
    expect([...versions.keys()].sort()).toEqual([...TENANCY_EVENT_TYPES].sort());
    for (const [type, list] of versions) {
      const first = Math.min(...list);
      const expected = Array.from(
        { length: CURRENT_SCHEMA_VERSION - first + 1 },
        (_, index) => first + index,
      );
      expect({ type, versions: list }).toEqual({ type, versions: expected });
    }
    // The types that existed before schema versions were introduced keep their version 0 shape.
    for (const type of V0_TYPES)
      expect({ type, v0: versions.get(type)?.includes(0) }).toEqual({ type, v0: true });
  });

  it('accepts every event the decider emits, with the metadata the application writes', () => {
    expect(() => validator.assertAllValid(emitted)).not.toThrow();
  });

  it('fails when an emitted event does not match its schema', () => {
    const created = emitted.find(
      (event) => event.type === 'WorkspaceCreated' && !(event.data as { isRoot: boolean }).isRoot,
    )!;
    const deleted = emitted.find((event) => event.type === 'WorkspaceDeleted')!;
    const issued = emitted.find((event) => event.type === 'ApiKeyIssued')!;
    const member = emitted.find((event) => event.type === 'MemberAdded')!;
    const granted = emitted.find((event) => event.type === 'RoleGranted')!;
    const revocation = emitted.find((event) => event.type === 'RoleRevoked')!;
    const moved = emitted.find((event) => event.type === 'WorkspaceMoved')!;
    const suspended = emitted.find((event) => event.type === 'TenantSuspended')!;
    const quotas = emitted.find((event) => event.type === 'TenantQuotasSet')!;
    const tampered: [string, EventToValidate][] = [
      [
        'a move without its new parent',
        { ...moved, data: { ...(moved.data as object), toParentWorkspaceId: undefined } },
      ],
      [
        'a suspension reason over two lines',
        { ...suspended, data: { ...(suspended.data as object), reason: 'a\nb' } },
      ],
      [
        'an unknown quota',
        {
          ...quotas,
          data: {
            ...(quotas.data as object),
            quotas: { ...(quotas.data as { quotas: object }).quotas, maxCats: 3 },
          },
        },
      ],
      [
        'a move in a version before moves existed',
        { ...moved, metadata: { ...moved.metadata, schemaVersion: 1 } },
      ],
      ['an unknown data field', { ...created, data: { ...(created.data as object), color: 'red' } }],
      ['a missing tenantId', { ...created, data: { ...(created.data as object), tenantId: undefined } }],
      [
        'an upper-case id',
        { ...created, data: { ...(created.data as object), workspaceId: randomUUID().toUpperCase() } },
      ],
      ['a root with a parent', { ...created, data: { ...(created.data as object), isRoot: true } }],
      [
        'a name over 200 characters',
        { ...created, data: { ...(created.data as object), name: 'x'.repeat(201) } },
      ],
      ['a name with a line break', { ...created, data: { ...(created.data as object), name: 'a\nb' } }],
      ['an unknown deletion reason', { ...deleted, data: { ...(deleted.data as object), reason: 'whim' } }],
      ['an unknown metadata field', { ...created, metadata: { ...created.metadata, tenant: 'x' } }],
      [
        'an occurredAt that is not a date-time',
        { ...created, metadata: { ...created.metadata, occurredAt: 'yesterday' } },
      ],
      [
        'a schema version nobody published',
        { ...created, metadata: { ...created.metadata, schemaVersion: 7 } },
      ],
      ['an api key with an unknown role', { ...issued, data: { ...(issued.data as object), role: 'owner' } }],
      [
        'an api key hash that is not a digest',
        { ...issued, data: { ...(issued.data as object), secretHash: 'x' } },
      ],
      [
        'an api key event in a version before api keys existed',
        { ...issued, metadata: { ...issued.metadata, schemaVersion: 0 } },
      ],
      ['a user id with a space', { ...member, data: { ...(member.data as object), userId: 'jane doe' } }],
      [
        'a group principal whose id is not a UUID',
        { ...granted, data: { ...(granted.data as object), principal: { type: 'group', id: 'ops' } } },
      ],
      ['an unknown role', { ...granted, data: { ...(granted.data as object), role: 'owner' } }],
      [
        'an unknown revocation reason',
        { ...revocation, data: { ...(revocation.data as object), reason: 'whim' } },
      ],
    ];
    for (const [label, event] of tampered) {
      const cleaned = { ...event, data: JSON.parse(JSON.stringify(event.data)) as unknown };
      expect({ label, problems: validator.problemsOf(cleaned).length > 0 }).toEqual({
        label,
        problems: true,
      });
      expect(() => validator.assertAllValid([...emitted, cleaned])).toThrow(/1 of \d+ events do not match/);
    }
  });

  it('describes the version 0 shapes: workspace events without tenantId, metadata without schemaVersion', () => {
    const { schemaVersion: _, ...v0Metadata } = emitted[0]!.metadata;
    const v0Created = {
      type: 'WorkspaceCreated',
      data: { workspaceId: randomUUID(), parentWorkspaceId: null, name: 'Root' },
      metadata: v0Metadata,
    };
    expect(validator.problemsOf(v0Created)).toEqual([]);
    expect(validator.problemsOf({ ...v0Created, metadata: { ...v0Metadata, schemaVersion: 0 } })).toEqual([]);
    expect(validator.problemsOf({ ...v0Created, metadata: { ...v0Metadata, schemaVersion: 1 } })).not.toEqual(
      [],
    );
  });
});

import { describe, expect, it } from '@jest/globals';
import { UpcasterChain } from './upcaster-chain.js';
import { UpcastError } from './upcaster.js';
import { workspaceEventsV0Upcasters } from './workspace-events.v0.upcaster.js';

const TENANT = '0b7e6f4c-2d1a-4e8b-9c3f-5a6b7c8d9e0f';
const OTHER_TENANT = '9b7e6f4c-2d1a-4e8b-9c3f-5a6b7c8d9e0f';
const WORKSPACE = '00000000-0000-4000-8000-000000000001';
const PARENT = '00000000-0000-4000-8000-000000000002';
const inTenantStream = { streamName: `tenant-${TENANT}` };

const upcasterFor = (type: string) => {
  const upcaster = workspaceEventsV0Upcasters.find((candidate) => candidate.type === type);
  if (!upcaster) throw new Error(`no v0 upcaster for ${type}`);
  return upcaster;
};

describe('WorkspaceCreated v0 -> v1', () => {
  const upcast = upcasterFor('WorkspaceCreated').upcast;

  it('takes tenantId from the stream and derives isRoot from the missing parent', () => {
    expect(upcast({ workspaceId: WORKSPACE, parentWorkspaceId: null, name: 'Root' }, inTenantStream)).toEqual(
      {
        tenantId: TENANT,
        workspaceId: WORKSPACE,
        parentWorkspaceId: null,
        name: 'Root',
        isRoot: true,
      },
    );
    expect(upcast({ workspaceId: WORKSPACE, parentWorkspaceId: PARENT, name: 'A' }, inTenantStream)).toEqual({
      tenantId: TENANT,
      workspaceId: WORKSPACE,
      parentWorkspaceId: PARENT,
      name: 'A',
      isRoot: false,
    });
  });

  it('keeps fields the stored event already has', () => {
    const upcast = upcasterFor('WorkspaceCreated').upcast;
    expect(
      upcast(
        {
          tenantId: OTHER_TENANT,
          workspaceId: WORKSPACE,
          parentWorkspaceId: PARENT,
          name: 'A',
          isRoot: true,
        },
        inTenantStream,
      ),
    ).toMatchObject({ tenantId: OTHER_TENANT, isRoot: true });
  });

  it('refuses to guess the tenant outside a tenant stream', () => {
    expect(() =>
      upcast({ workspaceId: WORKSPACE, parentWorkspaceId: null, name: 'Root' }, { streamName: 'elsewhere' }),
    ).toThrow(UpcastError);
  });
});

describe('WorkspaceRenamed v0 -> v1', () => {
  const upcast = upcasterFor('WorkspaceRenamed').upcast;

  it('takes tenantId from the stream', () => {
    expect(upcast({ workspaceId: WORKSPACE, name: 'B' }, inTenantStream)).toEqual({
      tenantId: TENANT,
      workspaceId: WORKSPACE,
      name: 'B',
    });
  });

  it('refuses to guess the tenant outside a tenant stream', () => {
    expect(() => upcast({ workspaceId: WORKSPACE, name: 'B' }, { streamName: 'tenant-' })).toThrow(
      UpcastError,
    );
  });
});

describe('WorkspaceDeleted v0 -> v1', () => {
  const upcast = upcasterFor('WorkspaceDeleted').upcast;

  it('takes tenantId from the stream and keeps the rest', () => {
    expect(
      upcast(
        { workspaceId: WORKSPACE, parentWorkspaceId: PARENT, isRoot: false, reason: 'cascade' },
        inTenantStream,
      ),
    ).toEqual({
      tenantId: TENANT,
      workspaceId: WORKSPACE,
      parentWorkspaceId: PARENT,
      isRoot: false,
      reason: 'cascade',
    });
  });
});

describe('UpcasterChain', () => {
  const chain = new UpcasterChain(workspaceEventsV0Upcasters, 1);

  it('returns current data untouched, as the same object (folding large tenants copies nothing)', () => {
    const data = { tenantId: TENANT, workspaceId: WORKSPACE, name: 'B' };
    expect(chain.upcast('WorkspaceRenamed', data, 1, inTenantStream)).toBe(data);
  });

  it('passes through a type whose shape did not change in a step', () => {
    const data = { tenantId: TENANT, name: 'Acme' };
    expect(chain.upcast('TenantCreated', data, 0, inTenantStream)).toEqual(data);
  });

  it('refuses versions from a newer writer, and versions that are not versions', () => {
    expect(() => chain.upcast('TenantCreated', {}, 2, inTenantStream)).toThrow(/newer than 1/);
    expect(() => chain.upcast('TenantCreated', {}, -1, inTenantStream)).toThrow(UpcastError);
    expect(() => chain.upcast('TenantCreated', {}, 0.5, inTenantStream)).toThrow(UpcastError);
  });

  it('applies every step in order from the stored version', () => {
    const twoSteps = new UpcasterChain(
      [
        { type: 'WorkspaceRenamed', fromVersion: 0, upcast: (data) => ({ ...data, trail: ['0->1'] }) },
        {
          type: 'WorkspaceRenamed',
          fromVersion: 1,
          upcast: (data) => ({ ...data, trail: [...(data.trail as string[]), '1->2'] }),
        },
      ],
      2,
    );
    expect(twoSteps.upcast('WorkspaceRenamed', {}, 0, inTenantStream)).toEqual({ trail: ['0->1', '1->2'] });
    expect(twoSteps.upcast('WorkspaceRenamed', { trail: [] }, 1, inTenantStream)).toEqual({
      trail: ['1->2'],
    });
  });

  it('refuses two upcasters for one step and one that leads past the current version', () => {
    const step = workspaceEventsV0Upcasters[0]!;
    expect(() => new UpcasterChain([step, step], 1)).toThrow(/two upcasters/);
    expect(() => new UpcasterChain([{ ...step, fromVersion: 1 }], 1)).toThrow(/does not lead/);
  });
});

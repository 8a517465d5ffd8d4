import { describe, expect, it } from '@jest/globals';
import { authorize, type Permission, type Placement } from './access-policy.js';
import type { Principal } from './principal.js';

const T = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const OTHER = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const TOP = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const INSIDE = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';
const OUTSIDE = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee';

const key = (role: 'admin' | 'reader', workspaceId: string | null = null): Principal => ({
  kind: 'api-key',
  apiKeyId: 'ffffffff-ffff-4fff-8fff-ffffffffffff',
  tenantId: T,
  role,
  workspaceId,
});
const placements: Record<string, Placement> = { [TOP]: 'top', [INSIDE]: 'inside', [OUTSIDE]: 'outside' };
const placementOf = (workspaceId: string): Placement => placements[workspaceId] ?? 'outside';
const decide = (principal: Principal, permission: Permission, workspaceId?: string, tenantId = T) =>
  authorize(principal, permission, { tenantId, ...(workspaceId ? { workspaceId } : {}) }, placementOf).kind;

describe('access policy', () => {
  it('answers not-found for any other tenant before looking at the role or the permission', () => {
    for (const principal of [key('admin'), key('reader'), key('admin', TOP)]) {
      for (const permission of [
        'tenant:read',
        'tenant:delete',
        'workspace:change',
        'api-key:manage',
      ] as const) {
        expect(decide(principal, permission, INSIDE, OTHER)).toBe('not-found');
      }
    }
  });

  it('keeps tenant creation, listing and deletion for the operator', () => {
    expect(authorize(key('admin'), 'tenant:create', {}, placementOf).kind).toBe('forbidden');
    expect(authorize(key('admin'), 'tenant:list', {}, placementOf).kind).toBe('forbidden');
    expect(decide(key('admin'), 'tenant:delete')).toBe('forbidden');
    expect(
      authorize({ kind: 'operator', id: 'operator' }, 'tenant:delete', { tenantId: T }, placementOf).kind,
    ).toBe('allow');
  });

  it('lets a tenant reader read everything of its tenant and change nothing', () => {
    for (const permission of [
      'tenant:read',
      'tenant:history',
      'workspace:list',
      'workspace:read',
      'events:read',
    ] as const)
      expect(decide(key('reader'), permission, INSIDE)).toBe('allow');
    for (const permission of ['workspace:create', 'workspace:change', 'api-key:manage'] as const)
      expect(decide(key('reader'), permission, INSIDE)).toBe('forbidden');
  });

  it('confines a workspace key to its subtree: outside is not-found, its top is read-only', () => {
    const admin = key('admin', TOP);
    expect(decide(admin, 'workspace:read', OUTSIDE)).toBe('not-found');
    expect(decide(admin, 'workspace:change', OUTSIDE)).toBe('not-found');
    expect(decide(admin, 'workspace:read', TOP)).toBe('allow');
    expect(decide(admin, 'workspace:create', TOP)).toBe('allow');
    expect(decide(admin, 'workspace:change', TOP)).toBe('forbidden');
    expect(decide(admin, 'workspace:change', INSIDE)).toBe('allow');
    expect(authorize(admin, 'workspace:list', { tenantId: T }, placementOf)).toEqual({
      kind: 'allow',
      subtree: TOP,
    });
    for (const permission of ['tenant:read', 'tenant:history', 'events:read', 'api-key:manage'] as const)
      expect(decide(admin, permission)).toBe('forbidden');
  });

  it('lets a workspace reader read its subtree and nothing more', () => {
    const reader = key('reader', TOP);
    expect(decide(reader, 'workspace:read', INSIDE)).toBe('allow');
    expect(decide(reader, 'workspace:create', INSIDE)).toBe('forbidden');
    expect(decide(reader, 'workspace:change', INSIDE)).toBe('forbidden');
    expect(decide(reader, 'workspace:change', OUTSIDE)).toBe('not-found');
  });

  it('refuses the unfiltered event feed to every key, and serves the schema catalog to all', () => {
    expect(authorize(key('admin'), 'events:read', {}, placementOf).kind).toBe('forbidden');
    expect(authorize(key('reader', TOP), 'events:schemas', {}, placementOf).kind).toBe('allow');
  });
});

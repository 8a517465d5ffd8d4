import { describe, expect, it } from '@jest/globals';
import { CURRENT_SCHEMA_VERSION, isTenancyEventType, TENANCY_EVENT_TYPES } from './tenancy.events.js';

describe('tenancy event types', () => {
  it('lists every stored event name once', () => {
    expect([...TENANCY_EVENT_TYPES].sort()).toEqual([
      'ApiKeyIssued',
      'ApiKeyRevoked',
      'GroupCreated',
      'GroupDeleted',
      'GroupMemberAdded',
      'GroupMemberRemoved',
      'GroupRenamed',
      'MemberAdded',
      'MemberRemoved',
      'MemberUpdated',
      'RoleGranted',
      'RoleRevoked',
      'TenantCreated',
      'TenantDeleted',
      'TenantDeletionStarted',
      'WorkspaceCreated',
      'WorkspaceDeleted',
      'WorkspaceDeletionStarted',
      'WorkspaceRenamed',
    ]);
    expect(CURRENT_SCHEMA_VERSION).toBe(1);
  });

  it('tells tenancy events from other names, including inherited object keys', () => {
    expect(isTenancyEventType('WorkspaceCreated')).toBe(true);
    expect(isTenancyEventType('OrderPlaced')).toBe(false);
    expect(isTenancyEventType('toString')).toBe(false);
  });
});

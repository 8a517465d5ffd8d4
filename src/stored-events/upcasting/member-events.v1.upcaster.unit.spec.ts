import { describe, expect, it } from '@jest/globals';
import { memberEventsV1Upcasters } from './member-events.v1.upcaster.js';
import { tenancyUpcasters } from './upcaster-chain.js';

const TENANT = '0b7e6f4c-2d1a-4e8b-9c3f-5a6b7c8d9e0f';
const context = { streamName: `tenant-${TENANT}` };

describe('MemberAdded and MemberUpdated v1 -> v2', () => {
  it.each(memberEventsV1Upcasters.map((upcaster) => [upcaster.type, upcaster] as const))(
    '%s: a plain display name becomes unsealed text, null stays null',
    (_type, upcaster) => {
      expect(upcaster.upcast({ tenantId: TENANT, userId: 'ann', displayName: 'Ann' }, context)).toEqual({
        tenantId: TENANT,
        userId: 'ann',
        displayName: { text: 'Ann' },
      });
      expect(upcaster.upcast({ tenantId: TENANT, userId: 'ann', displayName: null }, context)).toEqual({
        tenantId: TENANT,
        userId: 'ann',
        displayName: null,
      });
    },
  );

  it('the chain leaves version 2 data (sealed) as it is, and upcasts version 1 through it', () => {
    const sealed = { tenantId: TENANT, userId: 'ann', displayName: { sealed: 'pd1.x' } };
    expect(tenancyUpcasters.upcast('MemberAdded', sealed, 2, context)).toBe(sealed);
    expect(
      tenancyUpcasters.upcast(
        'MemberUpdated',
        { tenantId: TENANT, userId: 'ann', displayName: 'A' },
        1,
        context,
      ),
    ).toEqual({ tenantId: TENANT, userId: 'ann', displayName: { text: 'A' } });
  });
});

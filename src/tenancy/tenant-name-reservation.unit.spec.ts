import { describe, expect, it } from '@jest/globals';
import { TENANT_ID, tenantCreated, tenantDeleted, tenantDeletionStarted, fold } from './decider.test-kit.js';
import { initialState } from './tenancy.decider.js';
import {
  ABANDONED_RESERVATION_MS,
  judgeReservation,
  tenantNameStreamName,
} from './tenant-name-reservation.js';

const OTHER = '7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const reservedAt = new Date('2026-01-01T00:00:00Z');
const claimant = (now = new Date(reservedAt.getTime() + 1000)) => ({ tenantId: OTHER, nameKey: 'acme', now });

describe('tenant name reservation', () => {
  it("a retry of the holder's own create finds the name its own", () => {
    expect(judgeReservation({ tenantId: OTHER, reservedAt }, initialState(), claimant())).toBe('ours');
  });

  it('a live tenant holding the name keeps it', () => {
    expect(
      judgeReservation({ tenantId: TENANT_ID, reservedAt }, fold([tenantCreated('Acme')]), claimant()),
    ).toBe('taken');
  });

  it('a tenant being deleted still holds its name', () => {
    const holder = fold([tenantCreated('Acme'), tenantDeletionStarted()]);
    expect(judgeReservation({ tenantId: TENANT_ID, reservedAt }, holder, claimant())).toBe('taken');
  });

  it('a deleted tenant releases its name', () => {
    const holder = fold([tenantCreated('Acme'), tenantDeletionStarted(), tenantDeleted()]);
    expect(judgeReservation({ tenantId: TENANT_ID, reservedAt }, holder, claimant())).toBe('reclaimable');
  });

  it('a reservation of a tenant named otherwise holds while a rename to it may be under way, then lapses', () => {
    const reservation = { tenantId: TENANT_ID, reservedAt };
    const holder = fold([tenantCreated('Other')]);
    const later = new Date(reservedAt.getTime() + ABANDONED_RESERVATION_MS + 1);
    expect(judgeReservation(reservation, holder, claimant())).toBe('taken');
    expect(judgeReservation(reservation, holder, claimant(later))).toBe('reclaimable');
  });

  it('a suspended tenant keeps its name', () => {
    const holder = fold([
      tenantCreated('Acme'),
      { type: 'TenantSuspended', data: { tenantId: TENANT_ID, reason: 'unpaid' } },
    ]);
    const later = new Date(reservedAt.getTime() + 10 * ABANDONED_RESERVATION_MS);
    expect(judgeReservation({ tenantId: TENANT_ID, reservedAt }, holder, claimant(later))).toBe('taken');
  });

  it('a reservation for a tenant not (yet) created holds while its creation may be under way, then lapses', () => {
    const reservation = { tenantId: TENANT_ID, reservedAt };
    const soon = new Date(reservedAt.getTime() + ABANDONED_RESERVATION_MS - 1);
    const later = new Date(reservedAt.getTime() + ABANDONED_RESERVATION_MS + 1);
    expect(judgeReservation(reservation, initialState(), claimant(soon))).toBe('taken');
    expect(judgeReservation(reservation, initialState(), claimant(later))).toBe('reclaimable');
  });

  it('names map to one stream per normalised key', () => {
    expect(tenantNameStreamName('acme')).toBe(tenantNameStreamName('acme'));
    expect(tenantNameStreamName('acme')).not.toBe(tenantNameStreamName('acme2'));
    expect(tenantNameStreamName('acme')).toMatch(/^tenantname-[0-9a-f]{64}$/);
  });
});

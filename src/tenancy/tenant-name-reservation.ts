import { createHash } from 'node:crypto';
import type { TenantState } from './tenant.state.js';

/**
 * Tenant names are unique across all tenants, which no single tenant stream can check. Each
 * normalised name gets a stream of its own; appending the first reservation with "no stream" is the
 * race-free check, and it works the same on every event store.
 */
export const TENANT_NAME_STREAM_PREFIX = 'tenantname-';

export type TenantNameReserved = {
  readonly type: 'TenantNameReserved';
  readonly data: Readonly<{ tenantId: string; name: string; nameKey: string }>;
};

/**
 * A creator that reserved a name and then died before its TenantCreated leaves a reservation for a
 * tenant that never came to be. After this long it can be taken over; far beyond any request's time.
 */
export const ABANDONED_RESERVATION_MS = 5 * 60_000;

export function tenantNameStreamName(nameKey: string): string {
  return TENANT_NAME_STREAM_PREFIX + createHash('sha256').update(nameKey, 'utf8').digest('hex');
}

export function tenantNameReserved(tenantId: string, name: string, nameKey: string): TenantNameReserved {
  return { type: 'TenantNameReserved', data: { tenantId, name, nameKey } };
}

export type ReservationVerdict = 'ours' | 'taken' | 'reclaimable';

/**
 * Who holds a name, given the latest reservation and the holder's tenant as it is now:
 * - the holder is us: ours (a retry of our own create);
 * - the holder exists under this name (or is being deleted): taken;
 * - the holder is deleted, or exists under another name: reclaimable;
 * - the holder does not exist: taken while its creation may still be under way, then reclaimable.
 */
export function judgeReservation(
  reservation: { tenantId: string; reservedAt: Date },
  holder: TenantState,
  claimant: { tenantId: string; nameKey: string; now: Date },
): ReservationVerdict {
  if (reservation.tenantId === claimant.tenantId) return 'ours';
  switch (holder.status) {
    case 'active':
    case 'deleting':
      return holder.nameKey === claimant.nameKey ? 'taken' : 'reclaimable';
    case 'deleted':
      return 'reclaimable';
    case 'none':
      return claimant.now.getTime() - reservation.reservedAt.getTime() > ABANDONED_RESERVATION_MS
        ? 'reclaimable'
        : 'taken';
    default: {
      const exhaustive: never = holder.status;
      return exhaustive;
    }
  }
}

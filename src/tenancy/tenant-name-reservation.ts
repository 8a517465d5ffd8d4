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
 * The holder renamed away from the name: anyone may reserve it again. Appended only after the
 * holder's TenantRenamed, and only over the very reservation that backed the old name, so that a
 * reservation made again by a concurrent rename back is never released.
 */
export type TenantNameReleased = {
  readonly type: 'TenantNameReleased';
  readonly data: Readonly<{ tenantId: string; name: string; nameKey: string }>;
};

/**
 * A creator or renamer that reserved a name and then died before its TenantCreated or TenantRenamed
 * leaves a reservation nobody uses. After this long it can be taken over; far beyond any request's
 * time, and the longest a name can be held by nobody.
 */
export const ABANDONED_RESERVATION_MS = 5 * 60_000;

export function tenantNameStreamName(nameKey: string): string {
  return TENANT_NAME_STREAM_PREFIX + createHash('sha256').update(nameKey, 'utf8').digest('hex');
}

export function tenantNameReserved(tenantId: string, name: string, nameKey: string): TenantNameReserved {
  return { type: 'TenantNameReserved', data: { tenantId, name, nameKey } };
}

export function tenantNameReleased(tenantId: string, name: string, nameKey: string): TenantNameReleased {
  return { type: 'TenantNameReleased', data: { tenantId, name, nameKey } };
}

export type ReservationVerdict = 'ours' | 'taken' | 'reclaimable';

/**
 * Who holds a name, given the latest reservation and the holder's tenant as it is now:
 * - the holder is us: ours (a retry of our own create, or a rename back);
 * - the holder exists under this name (suspended or being deleted too): taken;
 * - the holder is deleted: reclaimable;
 * - the holder does not exist, or exists under another name: taken while its creation or its rename
 *   to this name may still be under way, then reclaimable (a holder that renamed away and died
 *   before releasing the name is the same case).
 */
export function judgeReservation(
  reservation: { tenantId: string; reservedAt: Date },
  holder: TenantState,
  claimant: { tenantId: string; nameKey: string; now: Date },
): ReservationVerdict {
  if (reservation.tenantId === claimant.tenantId) return 'ours';
  const abandoned = claimant.now.getTime() - reservation.reservedAt.getTime() > ABANDONED_RESERVATION_MS;
  switch (holder.status) {
    case 'active':
    case 'suspended':
    case 'deleting':
      if (holder.nameKey === claimant.nameKey) return 'taken';
      return abandoned ? 'reclaimable' : 'taken';
    case 'deleted':
      return 'reclaimable';
    case 'none':
      return abandoned ? 'reclaimable' : 'taken';
    default: {
      const exhaustive: never = holder.status;
      return exhaustive;
    }
  }
}

import { Inject, Injectable } from '@nestjs/common';
import {
  ConcurrencyError,
  EVENT_STORE,
  type EventStore,
  type RecordedEvent,
} from '../../event-store/event-store.port.js';
import type { ResourceName } from '../../tenancy/resource-name.js';
import { TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';
import {
  judgeReservation,
  tenantNameReleased,
  tenantNameReserved,
  tenantNameStreamName,
} from '../../tenancy/tenant-name-reservation.js';
import { toEventToAppend } from '../../stored-events/event-metadata.js';
import type { CommandContext } from './command-context.js';
import { KeyedMutex } from './keyed-mutex.js';
import { TenantCommandExecutor } from './tenant-command.executor.js';

/** Attempts against other instances claiming the same name at the same moment. */
const MAX_ATTEMPTS = 25;

/**
 * Holds tenant names unique across all tenants and all service instances (see
 * tenant-name-reservation). A reservation is an event in the name's own stream; the revision it
 * lands at is its token: the tenant's TenantCreated or TenantRenamed records it, and a release
 * names it, so a release never undoes a newer claim.
 */
@Injectable()
export class TenantNameRegistry {
  // Claims of one name inside this instance take turns instead of spending attempts on each other.
  private readonly turns = new KeyedMutex();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly tenants: TenantCommandExecutor,
  ) {}

  /**
   * Reserves the name for the tenant and returns the reservation's revision, or throws
   * TENANT_NAME_TAKEN. For a rename, a tenant that holds the name already reserves it again (a fresh
   * token), so that a release of its older reservation cannot take the name from under this claim.
   *
   * For a create (`purpose: 'create'`), the tenant's own live reservation is taken as it is: it was
   * made by another attempt at the same create (a concurrent one, or one that died before its
   * TenantCreated), and whichever attempt wins records that very token. A fresh token per attempt
   * would leave the tenant recording an older reservation than the name's latest, so that releasing
   * the name after a rename would release nothing and hold the name for minutes.
   */
  reserve(
    tenantId: string,
    name: ResourceName,
    context: CommandContext,
    purpose: 'create' | 'rename' = 'rename',
  ): Promise<number> {
    const stream = tenantNameStreamName(name.key);
    return this.turns.run(stream, async () => {
      const reservation = toEventToAppend(tenantNameReserved(tenantId, name.display, name.key), context);
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        const latest = await this.latestRecord(stream);
        try {
          if (!latest) {
            return (await this.store.appendToStream(stream, [reservation], 'no_stream')).nextExpectedRevision;
          }
          if (latest.type === 'TenantNameReserved') {
            const holderId = String(latest.data.tenantId);
            if (holderId === tenantId && purpose === 'create') return latest.revision;
            const holder = holderId === tenantId ? undefined : (await this.tenants.read(holderId)).state;
            const verdict = holder
              ? judgeReservation({ tenantId: holderId, reservedAt: reservedAt(latest) }, holder, {
                  tenantId,
                  nameKey: name.key,
                  now: context.now,
                })
              : 'ours';
            if (verdict === 'taken') {
              throw new TenancyRuleViolation(
                'TENANT_NAME_TAKEN',
                `Another tenant is named ${JSON.stringify(name.display)}.`,
              );
            }
          }
          // Free (released, reclaimable) or ours: claimed over exactly the record judged.
          return (await this.store.appendToStream(stream, [reservation], latest.revision))
            .nextExpectedRevision;
        } catch (error) {
          if (!(error instanceof ConcurrencyError)) throw error;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * attempt)));
        }
      }
      throw new TenancyRuleViolation(
        'TENANT_NAME_TAKEN',
        `The name ${JSON.stringify(name.display)} is being claimed by others.`,
      );
    });
  }

  /**
   * Gives up the tenant's claim on a name it no longer bears (after its TenantRenamed, never before).
   * Only the reservation at `revision` is released, when given: a later one (the tenant renamed back,
   * or someone reclaimed the name) is left alone. Without a revision (names from before renames
   * existed) the tenant's latest reservation is released if the tenant does not bear the name now.
   * A reservation the tenant's state records for the name it bears is never released (a create
   * refused because the tenant meanwhile exists may share it with the create that won).
   * Best effort: a release that does not happen leaves the name reclaimable after
   * ABANDONED_RESERVATION_MS.
   */
  release(
    tenantId: string,
    name: ResourceName,
    revision: number | null,
    context: CommandContext,
  ): Promise<void> {
    const stream = tenantNameStreamName(name.key);
    return this.turns.run(stream, async () => {
      const latest = await this.latestRecord(stream);
      if (latest?.type !== 'TenantNameReserved' || String(latest.data.tenantId) !== tenantId) return;
      if (revision !== null && latest.revision !== revision) return;
      const { state } = await this.tenants.read(tenantId);
      if (state.nameKey === name.key && (revision === null || state.nameReservation === revision)) return;
      try {
        await this.store.appendToStream(
          stream,
          [toEventToAppend(tenantNameReleased(tenantId, name.display, name.key), context)],
          latest.revision,
        );
      } catch (error) {
        // Someone claimed it meanwhile: theirs now, nothing to release.
        if (!(error instanceof ConcurrencyError)) throw error;
      }
    });
  }

  private async latestRecord(stream: string): Promise<RecordedEvent | undefined> {
    for await (const event of this.store.readStream(stream, { direction: 'backwards', maxCount: 1 }))
      return event;
    return undefined;
  }
}

function reservedAt(event: RecordedEvent): Date {
  const occurredAt = event.metadata.occurredAt;
  return typeof occurredAt === 'string' ? new Date(occurredAt) : event.recordedAt;
}

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
  tenantNameReserved,
  tenantNameStreamName,
} from '../../tenancy/tenant-name-reservation.js';
import { toEventToAppend } from '../../stored-events/event-metadata.js';
import type { CommandContext } from './command-context.js';
import { TenantCommandExecutor } from './tenant-command.executor.js';

const MAX_ATTEMPTS = 5;

/** Holds tenant names unique across all tenants and all service instances (see tenant-name-reservation). */
@Injectable()
export class TenantNameRegistry {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly tenants: TenantCommandExecutor,
  ) {}

  /** Reserves the name for the tenant, or throws TENANT_NAME_TAKEN. Repeating it for the same tenant is a no-op. */
  async reserve(tenantId: string, name: ResourceName, context: CommandContext): Promise<void> {
    const stream = tenantNameStreamName(name.key);
    const reservation = toEventToAppend(tenantNameReserved(tenantId, name.display, name.key), context);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const latest = await this.latestReservation(stream);
      try {
        if (!latest) {
          await this.store.appendToStream(stream, [reservation], 'no_stream');
          return;
        }
        const holderId = String(latest.data.tenantId);
        const holder = holderId === tenantId ? undefined : (await this.tenants.read(holderId)).state;
        const verdict = holder
          ? judgeReservation({ tenantId: holderId, reservedAt: reservedAt(latest) }, holder, {
              tenantId,
              nameKey: name.key,
              now: context.now,
            })
          : 'ours';
        if (verdict === 'ours') return;
        if (verdict === 'taken') {
          throw new TenancyRuleViolation(
            'TENANT_NAME_TAKEN',
            `Another tenant is named ${JSON.stringify(name.display)}.`,
          );
        }
        await this.store.appendToStream(stream, [reservation], latest.revision);
        return;
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
      }
    }
    throw new TenancyRuleViolation(
      'TENANT_NAME_TAKEN',
      `The name ${JSON.stringify(name.display)} is being claimed by others.`,
    );
  }

  private async latestReservation(stream: string): Promise<RecordedEvent | undefined> {
    for await (const event of this.store.readStream(stream, { direction: 'backwards', maxCount: 1 }))
      return event;
    return undefined;
  }
}

function reservedAt(event: RecordedEvent): Date {
  const occurredAt = event.metadata.occurredAt;
  return typeof occurredAt === 'string' ? new Date(occurredAt) : event.recordedAt;
}

import { Inject, Injectable } from '@nestjs/common';
import {
  EVENT_STORE,
  type EventStore,
  type JsonObject,
  type RecordedEvent,
} from '../../event-store/event-store.port.js';
import { PersonalDataVault } from '../../personal-data/personal-data.vault.js';
import { publishEvents } from '../../personal-data/published-events.js';
import { invalidField, TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';
import { tenantStreamName } from '../../tenancy/tenant-stream.js';

export interface TenantHistoryItem {
  readonly revision: number;
  readonly position: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
  readonly recordedAt: string;
}

export interface TenantHistoryPage {
  readonly items: readonly TenantHistoryItem[];
  /** Pass as `after` for the next page; null at the end of the stream. */
  readonly next: number | null;
}

/**
 * One tenant's audit trail, straight from its stream in the event store (not from a read model), in
 * the current schema version with display names revealed as the feed publishes them.
 */
@Injectable()
export class TenantHistoryReader {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly personalData: PersonalDataVault,
  ) {}

  async page(tenantId: string, after: number, limit: number): Promise<TenantHistoryPage> {
    const stream = tenantStreamName(tenantId);
    const records: RecordedEvent[] = [];
    // One more than asked, to know whether another page follows.
    for await (const event of this.store.readStream(stream, {
      fromRevision: after + 1,
      maxCount: limit + 1,
    })) {
      records.push(event);
    }
    // An event this version cannot read ends the page before it (and is thrown when it comes first).
    const { events, stoppedAt } = await publishEvents(records, this.personalData);
    const items: TenantHistoryItem[] = events.map(({ recorded, type, data, metadata }) => ({
      revision: recorded.revision,
      position: recorded.position,
      type,
      data,
      metadata,
      recordedAt: recorded.recordedAt.toISOString(),
    }));
    if (items.length === 0) {
      const last = await this.store.streamRevision(stream);
      if (last === undefined) throw new TenancyRuleViolation('TENANT_NOT_FOUND', `No tenant ${tenantId}.`);
      // A revision no event of the stream had yet: the events written up to it would be skipped by
      // a reader that starts there, so it is refused rather than answered with nothing.
      if (after > last) throw invalidField('after', `is after the stream's last revision (${last})`);
    }
    const more = items.length > limit || stoppedAt !== undefined;
    const page = more ? items.slice(0, limit) : items;
    return { items: page, next: more ? (page[page.length - 1]?.revision ?? null) : null };
  }
}

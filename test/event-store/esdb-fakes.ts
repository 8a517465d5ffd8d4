import { Readable } from 'node:stream';
import type { AllStreamResolvedEvent, StreamingRead } from '@eventstore/db-client';
import type { LogSubscription } from '../../src/event-store/esdb/resumable-subscription.js';

/** Stand-ins for what @eventstore/db-client returns, so the adapter's own decisions run without a server. */

export interface RecordSpec {
  readonly commit: number;
  readonly prepare?: number;
  readonly type?: string;
  readonly streamId?: string;
  readonly revision?: number;
  readonly data?: unknown;
  readonly metadata?: unknown;
  readonly isJson?: boolean;
  readonly id?: string;
  readonly created?: Date;
}

export function record(spec: RecordSpec): AllStreamResolvedEvent {
  const position = { commit: BigInt(spec.commit), prepare: BigInt(spec.prepare ?? spec.commit) };
  return {
    event: {
      streamId: spec.streamId ?? 'tenant-1',
      id: spec.id ?? `00000000-0000-4000-8000-${String(spec.commit).padStart(12, '0')}`,
      isJson: spec.isJson ?? true,
      revision: BigInt(spec.revision ?? 0),
      type: spec.type ?? 'Happened',
      created: spec.created ?? new Date('2024-05-01T12:00:00.000Z'),
      data: spec.data ?? { commit: spec.commit },
      metadata: spec.metadata ?? {},
      position,
    },
    commitPosition: position.commit,
  } as AllStreamResolvedEvent;
}

/** A finished read: yields the records, then fails with `error` when given. */
export function fakeRead<E>(records: readonly E[], error?: Error): StreamingRead<E> & { cancelled: boolean } {
  const stream = Readable.from(
    (async function* () {
      yield* records;
      if (error) throw error;
    })(),
    { objectMode: true },
  );
  const read = Object.assign(stream, {
    cancelled: false,
    async cancel() {
      read.cancelled = true;
    },
  });
  return read;
}

export type SubscriptionStep = AllStreamResolvedEvent | Error | 'confirm';

/**
 * A subscription that plays its steps, then either ends or stays open (as a live subscription
 * does) until unsubscribed. `pulled` counts records handed out, to check nothing reads ahead.
 */
export class FakeSubscription implements LogSubscription {
  unsubscribed = false;
  pulled = 0;
  private confirmed: (() => void) | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly steps: readonly SubscriptionStep[],
    private readonly ending: 'stay-open' | 'end' = 'stay-open',
  ) {}

  once(_event: 'confirmation', listener: () => void): this {
    this.confirmed = listener;
    return this;
  }

  async unsubscribe(): Promise<void> {
    this.unsubscribed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<AllStreamResolvedEvent> {
    for (const step of this.steps) {
      if (this.unsubscribed) return;
      if (step === 'confirm') {
        this.confirmed?.();
        continue;
      }
      if (step instanceof Error) throw step;
      this.pulled += 1;
      yield step;
    }
    if (this.ending === 'end') return;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      if (this.unsubscribed) resolve();
    });
  }
}

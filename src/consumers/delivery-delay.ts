import type { RecordedEvent } from '../event-store/event-store.port.js';
import type { BatchDelivery } from './checkpointed-consumer.js';

/**
 * The steps an event of a live batch went through, from its append to the commit of its effect,
 * in the order they happen (they add up to the whole delay):
 *
 * - `projector_busy`: the event was there while the consumer still worked on an earlier batch;
 * - `until_read`: from then (or from the append, if the consumer was idle) to the start of the read
 *   that returned it: the append's own commit, older transactions still holding the log's read
 *   horizon, the notification and the short wait that gathers further appends;
 * - `read`: the log read;
 * - `apply`: the batch's statements, up to COMMIT;
 * - `commit`: the commit and its answer.
 *
 * The append's time is the event's recordedAt, taken by the database's clock at the start of the
 * appending transaction; the rest by this process's. Both are the host's wall clock when the
 * database runs on the same host; otherwise their difference shifts `projector_busy` and `until_read`.
 */
export const DELIVERY_PHASES = ['projector_busy', 'until_read', 'read', 'apply', 'commit'] as const;
export type DeliveryPhase = (typeof DELIVERY_PHASES)[number];

/** Seconds per step for one event of the batch; a step the clocks make negative counts as 0. */
export function deliveryPhases(event: RecordedEvent, delivery: BatchDelivery): Record<DeliveryPhase, number> {
  const appended = event.recordedAt.getTime();
  const free = Math.max(appended, delivery.askedAt);
  const applied = delivery.appliedAt ?? delivery.committedAt;
  const seconds = (from: number, to: number): number => Math.max(0, to - from) / 1000;
  return {
    projector_busy: seconds(appended, delivery.askedAt),
    until_read: seconds(free, delivery.startedAt),
    read: seconds(delivery.startedAt, delivery.endedAt),
    apply: seconds(delivery.endedAt, applied),
    commit: seconds(applied, delivery.committedAt),
  };
}

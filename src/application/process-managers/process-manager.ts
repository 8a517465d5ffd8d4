import type { EventFilter, RecordedEvent } from '../../event-store/event-store.port.js';
import type { CommandContext } from '../command-context.js';

/**
 * A process manager reacts to facts in the log by issuing ordinary commands. It runs on its own
 * checkpoint, and everything it does must be safe to repeat: after a crash, a redelivery or a
 * replay it sees the same events again, and deterministic ids plus expected revisions turn the
 * repeat into a no-op.
 */
export interface ProcessManager {
  readonly name: string;
  readonly filter: EventFilter;
  handle(event: RecordedEvent): Promise<void>;
}

/** The metadata of a command caused by an event: same correlation, the event as its cause. */
export function contextCausedBy(event: RecordedEvent, actor: string, now: Date): CommandContext {
  const correlationId = event.metadata.correlationId;
  return {
    actor,
    correlationId: typeof correlationId === 'string' ? correlationId : event.id,
    causationId: event.id,
    now,
  };
}

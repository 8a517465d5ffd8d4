import type { EventFilter, RecordedEvent } from '../event-store/event-store.port.js';

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

/** Injection token of the process managers the consumer host runs (provided by the composition root). */
export const PROCESS_MANAGERS = Symbol('ProcessManagers');

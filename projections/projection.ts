import type { EventFilter, RecordedEvent } from '../src/event-store/event-store.port.js';
import type { SqlStatement } from '../src/database/sql-statement.js';

/**
 * A read-model projection: a pure function from one stored event to the SQL that applies it. The
 * statements name tables without a schema; the runner sets the search path to the schema being
 * built (the live read models, a replay's fresh copy, or verify's scratch copy).
 *
 * Applying the same event twice must leave the same rows: the runner already applies each event
 * once per checkpoint, but a crash between two systems (or a replay over existing rows) must not
 * double-count.
 */
export interface Projection {
  readonly name: string;
  readonly filter: EventFilter;
  /** The read-model tables this projection alone writes: what a replay of it swaps in. */
  readonly tables: readonly string[];
  project(event: RecordedEvent): readonly SqlStatement[];
}

import type { EventFilter, RecordedEvent } from '../src/event-store/event-store.port.js';
import type { SqlStatement, SqlValue } from '../src/database/sql-statement.js';

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
  /**
   * The meaning of one event, as SQL. Where `setBased` is given, this is the reference it is
   * tested against (test/projections/set-based-batches.int.spec.ts) and the runner uses that form.
   */
  project(event: RecordedEvent): readonly SqlStatement[];
  /** The same effect for a whole batch in a handful of statements, whatever its size. */
  readonly setBased?: SetBasedProjection;
  /**
   * Where not every event can change this projection's rows, the types of those that can: a batch
   * of only other events is no statement, so its projector opens no transaction for it, and a read
   * with Min-Position may pass over them in the log after the stored checkpoint
   * (src/consumers/projection-progress.ts). Absent: any event may change them.
   */
  readonly changedBy?: ReadonlySet<string>;
  /**
   * A rebuild's form for the events that only add rows: it works out their final rows in the
   * process and copies them in, instead of applying them as sets or one by one.
   */
  readonly bulkLoad?: BulkLoadForm;
}

/** One staged row, values in the order of `SetBasedProjection.stagingColumns`. */
export type StagingRow = readonly SqlValue[];

/**
 * A batch applied as sets: the events become staged rows (inline values for a live batch, a table
 * filled by COPY for a bulk load), and one statement turns them into read-model rows with a step
 * per kind of change, not one per event.
 */
export interface SetBasedProjection {
  /** Name and SQL type of each staged column. */
  readonly stagingColumns: readonly (readonly [name: string, type: string])[];
  /** The staged rows of a batch of events, in log order. */
  stage(events: readonly RecordedEvent[]): StagingRow[];
  /** The statement applying the staged rows, given a query that yields them (`staged`). */
  applySql(staged: string): string;
  /**
   * Events the set-based statement leaves to their per-event statement: rare changes that reach
   * rows other events of the same batch may touch (a move rewrites a whole subtree's paths). The
   * batch is cut around each such event, which is applied alone, in its place in the order.
   */
  appliesAlone?(event: RecordedEvent): boolean;
  /**
   * Set when every staged row is a row of this table, new with its event (columns as staged): a
   * rebuild then loads the rows by COPY straight into it.
   */
  readonly bulkTable?: string;
}

/**
 * Applies runs of events to tables being bulk loaded (a rebuild's fresh schema, which nothing else
 * writes): the rebuild cuts each chunk into runs of the events it `handles` and runs of the
 * others, which the set-based or per-event statements apply, each in its place in the log order.
 */
export interface BulkLoadForm {
  handles(event: RecordedEvent): boolean;
  load(events: readonly RecordedEvent[], target: BulkLoadTarget): Promise<void>;
}

/** What a bulk load may do on the schema being built, inside the rebuild's transaction. */
export interface BulkLoadTarget {
  query<Row extends object>(text: string, values: readonly unknown[]): Promise<Row[]>;
  /** COPY of rows, values in the order of `columns`, into a table of the schema. */
  copy(table: string, columns: readonly string[], rows: readonly StagingRow[]): Promise<void>;
}

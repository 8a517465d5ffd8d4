import pg from 'pg';
import type { EventFilter, EventStore, Position, RecordedEvent } from '../event-store/event-store.port.js';
import { comparePositions } from '../event-store/position.js';
import { isDatabaseUnavailable, isStatementCancelled } from '../database/database-errors.js';
import { noteDatabaseRefusal } from '../database/database-refusals.js';
import { liftTimeouts, longWorkConnectionConfig } from '../database/postgres-pool.js';
import { inTransaction, transactionInOneRoundTrip } from '../database/transaction.js';
import { CHECKPOINT_MOVED } from '../../projections/read-model.checkpoints.js';
import type { CheckpointStore } from './checkpoint-stores.js';
import { abortableSleep as sleep, followLog, wallClockMs, type LiveRead } from './log-follower.js';

/** The work of a consumer: applies a batch inside the transaction that then stores the checkpoint. */
export type BatchHandler = (client: pg.ClientBase, events: readonly RecordedEvent[]) => Promise<void>;

/**
 * A consumer whose whole work is SQL (a projection) can hand over the batch as text instead:
 * the transaction, the batch and the checkpoint then travel to PostgreSQL in one round trip.
 */
export interface SqlBatch {
  /** Statements opening the transaction's context (role, search path). */
  readonly prepare: string;
  /**
   * Statements run once on each new connection, in a transaction opened by `prepare`, before its
   * first batch (prepared statements the batches then execute).
   */
  readonly prepareSession?: string;
  /**
   * The batch's statements; empty when the batch changes nothing, which then costs no transaction
   * (see ConsumerOptions.checkpointDelayMs).
   */
  toSql(events: readonly RecordedEvent[]): string;
  /** A statement moving the checkpoint from `expected` to `position`, failing with SQLSTATE ES412 if it moved. */
  moveCheckpoint(consumer: string, expected: Position | undefined, position: Position): string;
}

/** First wait before connecting again after a lost connection; it doubles up to the maximum. */
const FIRST_RECONNECT_DELAY_MS = 100;
const MAX_RECONNECT_DELAY_MS = 5_000;
/** How long stop() lets a batch being applied finish before it closes the connection under it. */
const STOP_GRACE_MS = 5_000;
/** SQLSTATE of a setting the server does not know (idle_session_timeout before PostgreSQL 14). */
const UNDEFINED_SETTING = '42704';
/** How long a health probe of the consumer's own connection may take before it counts as dead. */
const PING_TIMEOUT_MS = 2_000;
/** See ConsumerOptions.checkpointDelayMs. */
const CHECKPOINT_DELAY_MS = 50;

export interface ConsumerOptions {
  readonly name: string;
  readonly filter: EventFilter;
  readonly store: EventStore;
  readonly connectionString: string;
  readonly checkpoints: CheckpointStore;
  /** Required unless `sqlBatch` or `act` is given. */
  readonly handle?: BatchHandler;
  /**
   * Work whose effects go through other connections (a process manager's commands), done before
   * the transaction that stores the checkpoint opens rather than inside it. A transaction held
   * open meanwhile gets its id only at the checkpoint's write, and is then dated from its BEGIN:
   * to whoever watches the log's horizon it looks as if it had held the log back all along.
   */
  readonly act?: (events: readonly RecordedEvent[]) => Promise<void>;
  /** The one-round-trip form of `handle`, used instead of it where given. */
  readonly sqlBatch?: SqlBatch;
  /**
   * A batch of `sqlBatch` that changes nothing (its statements are empty: the membership
   * projection's share of a WorkspaceCreated) is applied without a transaction: the consumer moves
   * on in memory, and its checkpoint is stored with the next batch that does change something, or
   * on its own this long after the first batch that changed nothing, whichever comes first. At a
   * steady rate of such events, that is one write per this interval instead of one per event.
   * Until it is stored, a restart applies those events again (they change nothing); a read asking
   * for Min-Position learns of the progress from this instance's projector (onProgress), or, in
   * another instance, from the log (Projection.changedBy).
   */
  readonly checkpointDelayMs?: number;
  /** Runs at the start of every transaction (role, search path). */
  readonly prepareTransaction?: (client: pg.ClientBase) => Promise<void>;
  readonly batchSize?: number;
  /**
   * After a batch smaller than batchSize (the consumer is live), wait this long before reading
   * again, so that events arriving meanwhile are read and applied together. For consumers whose
   * latency matters little (process managers), it saves a log read per appended event.
   */
  readonly coalesceMs?: number;
  /** Attempts at one event before it is recorded as poison and the consumer stops. */
  readonly maxAttempts?: number;
  /**
   * How long after stopping on an event the consumer tries it again (connecting and taking the
   * lock anew, from its stored checkpoint), for as long as it keeps failing; unset or 0: never,
   * until the instance restarts. A cause fixed meanwhile (a grant put back, a newer version that
   * applied the event elsewhere) needs no restart.
   */
  readonly retryFailedAfterMs?: number;
  /** How often a standby instance tries to take over. */
  readonly standbyRetryMs?: number;
  /**
   * How long the consumer's own connection may stay silent before PostgreSQL ends its session
   * (idle_session_timeout, idle_in_transaction_session_timeout), releasing the advisory lock: a
   * frozen process, or one cut off without a reset, would otherwise hold it for as long as TCP
   * believes the peer is there. A live consumer speaks on it every third of this time.
   */
  readonly sessionTimeoutMs?: number;
  readonly log?: (level: 'log' | 'warn' | 'error', message: string) => void;
  /**
   * Told where the consumer has got to: `applied`, the position up to which it has applied the
   * log, and `stored`, its checkpoint as stored, which is behind `applied` while batches that
   * changed nothing wait to be stored (see checkpointDelayMs); called after each batch and each
   * checkpoint stored on its own.
   */
  readonly onProgress?: (applied: Position, stored: Position | undefined) => void;
  /**
   * Called after each committed batch (a transaction) with the new checkpoint, and for a live
   * batch read on demand, when each step of its delivery happened.
   */
  readonly onCommitted?: (
    position: Position,
    events: readonly RecordedEvent[],
    delivery: BatchDelivery | undefined,
  ) => void;
}

/** Wall-clock milliseconds of the steps of a live batch, from the reader's ask to its commit. */
export interface BatchDelivery extends LiveRead {
  /** When the batch's last statement before COMMIT ended, by the database's clock (SQL batches only). */
  readonly appliedAt: number | undefined;
  readonly committedAt: number;
}

export type ConsumerState = 'starting' | 'standby' | 'active' | 'reconnecting' | 'failed' | 'stopped';

export interface ConsumerStatus {
  readonly name: string;
  readonly state: ConsumerState;
  readonly position: Position | undefined;
  readonly eventsApplied: number;
  readonly failure: string | undefined;
  /**
   * Whether it has applied the log up to its end as it stood when this consumer last became
   * active: false while it catches up (after a start on a long log, a takeover, a reconnect).
   */
  readonly caughtUp: boolean;
}

/**
 * Runs a consumer of the log with exactly-once effect on PostgreSQL: it reads from its checkpoint,
 * applies a batch and stores the new checkpoint in one transaction.
 *
 * Only one instance of a consumer is active at a time, even with several service instances: the
 * active one holds a session advisory lock on the very connection it writes through. If that
 * connection dies, PostgreSQL drops the lock together with any half-written transaction, and a
 * standby instance takes over from the last committed checkpoint.
 *
 * A lost connection (a terminated backend, a restarting server) or a cancelled statement (the
 * statement timeout of a process manager's command waiting behind a lock held on the log, an
 * operator's pg_cancel_backend) is not the events' fault: the consumer drops the connection, waits
 * with backoff, connects again, takes the lock again and resumes from its stored checkpoint, for as
 * long as it takes. Only an event that keeps failing on
 * a connection that still answers is poison: it is retried a bounded number of times, then
 * recorded and reported, and the consumer stops before it rather than skipping it silently. It
 * tries the event again after retryFailedAfterMs, for as long as it fails: a cause fixed meanwhile
 * needs no restart.
 */
export class CheckpointedConsumer {
  private state: ConsumerState = 'starting';
  /** Where the consumer has applied the log up to (see onProgress). */
  private position: Position | undefined;
  /** Its checkpoint as stored; behind `position` while batches that changed nothing wait. */
  private stored: Position | undefined;
  /** Stores the checkpoint of batches that changed nothing, when it comes due. */
  private checkpointTimer: NodeJS.Timeout | undefined;
  /** The checkpoint being stored on its own, if it is. */
  private checkpointWrite: Promise<void> | undefined;
  private checkpointMoved: AbortController | undefined;
  private eventsApplied = 0;
  private failure: string | undefined;
  /** The event it stopped on, until it (or another instance) has applied it. */
  private failedAt: Position | undefined;
  private caughtUp = false;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private client: pg.Client | undefined;
  private reconnectDelayMs = FIRST_RECONNECT_DELAY_MS;

  constructor(private readonly options: ConsumerOptions) {
    if (!options.handle && !options.sqlBatch && !options.act)
      throw new TypeError(`consumer ${options.name} needs a handler, an action or an SQL batch`);
  }

  start(): void {
    this.running ??= this.run();
  }

  /**
   * Stops at a batch boundary: the batch being applied commits (bounded by STOP_GRACE_MS), no
   * other starts; then the connection closes, releasing the lock for another instance.
   */
  async stop(): Promise<void> {
    this.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_GRACE_MS);
    });
    await Promise.race([this.running, grace]);
    clearTimeout(timer);
    await this.client?.end().catch(() => undefined);
    await this.running;
    if (this.state !== 'failed') this.state = 'stopped';
  }

  status(): ConsumerStatus {
    return {
      name: this.options.name,
      state: this.state,
      position: this.position,
      eventsApplied: this.eventsApplied,
      failure: this.failure,
      caughtUp: this.caughtUp,
    };
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      if (this.hasFailed()) {
        const retryMs = this.options.retryFailedAfterMs ?? 0;
        if (retryMs <= 0) return;
        await sleep(retryMs, signal);
        if (signal.aborted) return;
        this.log('log', `${this.options.name}: trying ${this.failedAt ?? 'the event it stopped on'} again`);
        // Still reported as failed (see status) until the event is applied, here or elsewhere.
        this.state = 'starting';
      }
      try {
        await this.leadWhenPossible(signal);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof CheckpointMovedError) {
          // Someone else moved the checkpoint (a replay swapped in rebuilt tables): the stored
          // one is the truth, so start over from it at once.
          this.log('log', `${this.options.name}: ${error.message}; resuming from the stored checkpoint`);
          continue;
        }
        this.leaveActive('reconnecting');
        noteDatabaseRefusal(error);
        const delay = this.reconnectDelayMs;
        this.reconnectDelayMs = Math.min(MAX_RECONNECT_DELAY_MS, delay * 2);
        this.log('warn', `${this.options.name}: ${describe(error)}; reconnecting in ${delay} ms`);
        await sleep(delay, signal);
      } finally {
        this.cancelCheckpointWrite();
        const client = this.client;
        this.client = undefined;
        await client?.end().catch(() => undefined);
      }
    }
  }

  private async leadWhenPossible(signal: AbortSignal): Promise<void> {
    const client = new pg.Client({
      ...longWorkConnectionConfig(this.options.connectionString),
      application_name: `consumer:${this.options.name}`,
    });
    // A connection cut while the consumer waits for the log is seen here at once: it is no longer
    // active (its advisory lock went with the connection, and another instance may have taken it),
    // and the wait ends so that it reconnects now, not at the next event, which may be long coming.
    const lost = new AbortController();
    client.on('error', (error: Error) => {
      if (this.client !== client) return;
      if (this.state === 'active') this.leaveActive('reconnecting');
      lost.abort(error);
    });
    // Aborted when a checkpoint stored on its own finds that someone else moved it.
    const moved = new AbortController();
    this.checkpointMoved = moved;
    this.client = client;
    await client.connect();
    // Its batches are the service's own work, as long as their events make them. A statement or
    // transaction bound set for the database or role cancelled a long one on every attempt, and
    // the consumer tried it again for ever. (Its silence is bounded below.)
    await liftTimeouts(client);
    await this.boundSilence(client);
    for (;;) {
      const { rows } = await client.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_lock(hashtext('tenancy-consumer'), hashtext($1)) AS locked`,
        [this.options.name],
      );
      if (rows[0]?.locked) break;
      this.leaveActive('standby');
      if (this.failedAt) await this.seeWhetherAppliedElsewhere(client);
      await sleep(this.options.standbyRetryMs ?? 1000, signal);
      if (signal.aborted) return;
    }
    this.state = 'active';
    this.caughtUp = false;
    this.position = await this.inTransaction(client, () =>
      this.options.checkpoints.load(client, this.options.name),
    );
    this.stored = this.position;
    // Another instance, or a replay swapped in, may have carried it past the event it stopped on.
    if (this.position) this.passedFailure(this.position, 'its checkpoint is past it');
    const sqlBatch = this.options.sqlBatch;
    if (sqlBatch?.prepareSession) {
      await transactionInOneRoundTrip(client, [sqlBatch.prepare, sqlBatch.prepareSession]);
    }
    this.log('log', `${this.options.name}: active from ${this.position ?? 'the start of the log'}`);
    const batchSize = this.options.batchSize ?? 500;
    const batches = followLog({
      store: this.options.store,
      filter: this.options.filter,
      from: this.position ?? 'start',
      signal: AbortSignal.any([signal, lost.signal, moved.signal]),
      batchSize,
      onReadError: (error, attempt) =>
        this.log(
          'warn',
          `${this.options.name}: reading the log failed (${describe(error)}); retry ${attempt}`,
        ),
    });
    for await (const { events, reading, caughtUp } of batches) {
      if (signal.aborted) return;
      if (events.length > 0) await this.applyBatch(client, events, reading);
      if (this.hasFailed()) return;
      this.caughtUp ||= caughtUp;
      if (events.length > 0 && events.length < batchSize && this.options.coalesceMs) {
        await sleep(this.options.coalesceMs, signal);
      }
    }
    if (lost.signal.aborted && !signal.aborted) throw lost.signal.reason;
    if (moved.signal.aborted && !signal.aborted) throw moved.signal.reason;
  }

  private async applyBatch(
    client: pg.Client,
    batch: readonly RecordedEvent[],
    reading: LiveRead | undefined,
  ): Promise<void> {
    try {
      await this.tryCommit(client, batch, reading);
      return;
    } catch (error) {
      if (error instanceof CheckpointMovedError || error instanceof DatabaseFaultError) throw error;
      if (batch.length === 1) {
        await this.retryOrGiveUp(client, batch[0] as RecordedEvent, error);
        return;
      }
      this.log(
        'warn',
        `${this.options.name}: batch of ${batch.length} failed (${describe(error)}); applying one by one`,
      );
    }
    for (const event of batch) {
      try {
        await this.tryCommit(client, [event]);
      } catch (error) {
        if (error instanceof CheckpointMovedError || error instanceof DatabaseFaultError) throw error;
        await this.retryOrGiveUp(client, event, error);
        if (this.hasFailed()) return;
      }
    }
  }

  private async retryOrGiveUp(client: pg.Client, event: RecordedEvent, firstError: unknown): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 5;
    let lastError = firstError;
    for (let attempt = 2; attempt <= maxAttempts; attempt++) {
      await sleep(Math.min(2000, 50 * 2 ** attempt), this.abort.signal);
      if (this.abort.signal.aborted) return;
      try {
        await this.tryCommit(client, [event]);
        return;
      } catch (error) {
        if (error instanceof CheckpointMovedError || error instanceof DatabaseFaultError) throw error;
        lastError = error;
      }
    }
    const failure = `event ${event.id} (${event.type}) at ${event.position}: ${describe(lastError)}`;
    const retryMs = this.options.retryFailedAfterMs ?? 0;
    const next = retryMs > 0 ? `trying it again in ${retryMs / 1000} s` : 'a restart tries it again';
    this.log('error', `${this.options.name}: stopped after ${maxAttempts} attempts at ${failure}; ${next}`);
    // Recorded before the state says so: whoever sees the consumer failed finds the record too.
    await this.inTransaction(client, () =>
      this.options.checkpoints.recordFailure(
        client,
        this.options.name,
        event,
        maxAttempts,
        describe(lastError),
      ),
    ).catch((error: unknown) =>
      this.log('error', `${this.options.name}: could not record the failure: ${describe(error)}`),
    );
    this.failure = failure;
    this.failedAt = event.position;
    this.state = 'failed';
  }

  /** Another instance holding the consumer may have applied the event this one stopped on. */
  private async seeWhetherAppliedElsewhere(client: pg.Client): Promise<void> {
    const stored = await this.inTransaction(client, () =>
      this.options.checkpoints.load(client, this.options.name),
    );
    if (stored) this.passedFailure(stored, 'another instance applied it');
  }

  /** Forgets the failure once `position` is at or beyond the event it stopped on. */
  private passedFailure(position: Position, how: string): void {
    const failedAt = this.failedAt;
    if (!failedAt || comparePositions(position, failedAt) < 0) return;
    this.log('log', `${this.options.name}: past ${failedAt}, where it had stopped (${how})`);
    this.failure = undefined;
    this.failedAt = undefined;
  }

  /**
   * Commits the batch; a failure caused by the database being away (this consumer's connection, or
   * the pool a process manager's commands use) or by a statement it cancelled becomes a
   * DatabaseFaultError, which no attempt counts against the event.
   */
  private async tryCommit(
    client: pg.Client,
    batch: readonly RecordedEvent[],
    reading?: LiveRead,
  ): Promise<void> {
    try {
      await this.commit(client, batch, reading);
    } catch (error) {
      if (error instanceof CheckpointMovedError) throw error;
      if (isDatabaseUnavailable(error) || isStatementCancelled(error) || !(await answers(client))) {
        throw new DatabaseFaultError(error);
      }
      throw error;
    }
  }

  private async commit(
    client: pg.Client,
    batch: readonly RecordedEvent[],
    reading: LiveRead | undefined,
  ): Promise<void> {
    const last = batch[batch.length - 1];
    if (!last) return;
    const sqlBatch = this.options.sqlBatch;
    let appliedAt: number | undefined;
    if (sqlBatch) {
      const statements = sqlBatch.toSql(batch);
      if (statements === '') {
        this.advance(last.position, batch.length);
        this.storeCheckpointSoon(client, sqlBatch);
        return;
      }
      // This transaction stores the checkpoint: none is to be stored on its own meanwhile.
      this.cancelCheckpointWrite();
      await this.checkpointWrite;
      try {
        const result = await transactionInOneRoundTrip(client, [
          sqlBatch.prepare,
          statements,
          sqlBatch.moveCheckpoint(this.options.name, this.stored, last.position),
          // Where the batch's time went: applying it, or committing and answering.
          'SELECT extract(epoch FROM clock_timestamp())::float8 * 1000 AS applied_at',
        ]);
        appliedAt = (result.rows[0] as { applied_at?: number } | undefined)?.applied_at;
      } catch (error) {
        if (error instanceof pg.DatabaseError && error.code === CHECKPOINT_MOVED)
          throw new CheckpointMovedError(this.options.name);
        throw error;
      }
    } else {
      const { handle, act } = this.options;
      if (!handle && !act)
        throw new Error(`consumer ${this.options.name} has no handler, action or SQL batch`);
      if (act) await act(batch);
      await this.inTransaction(client, async () => {
        if (handle) await handle(client, batch);
        if (!(await this.options.checkpoints.save(client, this.options.name, this.stored, last.position))) {
          throw new CheckpointMovedError(this.options.name);
        }
      });
    }
    this.stored = last.position;
    this.advance(last.position, batch.length);
    this.options.onCommitted?.(
      last.position,
      batch,
      reading && { ...reading, appliedAt, committedAt: wallClockMs() },
    );
  }

  private advance(position: Position, events: number): void {
    this.position = position;
    this.eventsApplied += events;
    this.reconnectDelayMs = FIRST_RECONNECT_DELAY_MS;
    this.passedFailure(position, 'applied it');
    this.options.onProgress?.(position, this.stored);
  }

  /**
   * Stores, checkpointDelayMs from now, the checkpoint that batches which changed nothing moved
   * in memory, unless a batch's transaction stores it first. Through the consumer's own connection,
   * in one round trip: nothing else can run inside it. A failure leaves the checkpoint to the next
   * batch (a lost connection is seen by the consumer itself); a checkpoint moved by someone else
   * ends the lead, which resumes from the stored one.
   */
  private storeCheckpointSoon(client: pg.Client, sqlBatch: SqlBatch): void {
    if (this.checkpointTimer) return;
    const moved = this.checkpointMoved;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      const write = this.storeCheckpoint(client, sqlBatch, moved, this.checkpointWrite);
      this.checkpointWrite = write;
      void write.finally(() => {
        if (this.checkpointWrite === write) this.checkpointWrite = undefined;
      });
    }, this.options.checkpointDelayMs ?? CHECKPOINT_DELAY_MS);
    this.checkpointTimer.unref();
  }

  private async storeCheckpoint(
    client: pg.Client,
    sqlBatch: SqlBatch,
    moved: AbortController | undefined,
    previous: Promise<void> | undefined,
  ): Promise<void> {
    await previous;
    const position = this.position;
    const expected = this.stored;
    if (position === undefined || position === expected || this.client !== client) return;
    try {
      await transactionInOneRoundTrip(client, [
        sqlBatch.prepare,
        sqlBatch.moveCheckpoint(this.options.name, expected, position),
      ]);
    } catch (error) {
      if (this.client !== client) return;
      if (error instanceof pg.DatabaseError && error.code === CHECKPOINT_MOVED) {
        moved?.abort(new CheckpointMovedError(this.options.name));
      } else {
        this.log('warn', `${this.options.name}: storing the checkpoint failed: ${describe(error)}`);
      }
      return;
    }
    this.stored = position;
    this.options.onProgress?.(this.position ?? position, position);
  }

  private cancelCheckpointWrite(): void {
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
  }

  /**
   * Asks PostgreSQL to end this session once it has been silent for sessionTimeoutMs, and keeps it
   * from being silent that long while this process runs: a query every third of the time, queued
   * behind whatever the consumer sends (inside a transaction, it resets that transaction's idle
   * time too). idle_session_timeout needs PostgreSQL 14; an older server ends only sessions idle
   * inside a transaction.
   */
  private async boundSilence(client: pg.Client): Promise<void> {
    const timeoutMs = this.options.sessionTimeoutMs;
    if (timeoutMs === undefined) return;
    const heartbeat = setInterval(
      () => {
        if (this.client !== client) clearInterval(heartbeat);
        else client.query('SELECT 1').catch(() => undefined);
      },
      Math.floor(timeoutMs / 3),
    );
    heartbeat.unref();
    client.once('end', () => clearInterval(heartbeat));
    await client.query(`SET idle_in_transaction_session_timeout = ${Math.floor(timeoutMs)}`);
    await client.query(`SET idle_session_timeout = ${Math.floor(timeoutMs)}`).catch((error: unknown) => {
      if (!(error instanceof pg.DatabaseError && error.code === UNDEFINED_SETTING)) throw error;
    });
  }

  private inTransaction<T>(client: pg.Client, work: () => Promise<T>): Promise<T> {
    return inTransaction(client, async () => {
      await this.options.prepareTransaction?.(client);
      return work();
    });
  }

  /** Another instance may be applying the log now: what this one applied says nothing of it. */
  private leaveActive(state: 'standby' | 'reconnecting'): void {
    this.state = state;
    this.caughtUp = false;
  }

  private hasFailed(): boolean {
    return this.state === 'failed';
  }

  private log(level: 'log' | 'warn' | 'error', message: string): void {
    this.options.log?.(level, message);
  }
}

/**
 * The batch failed for the database's sake, not the events': the connection was lost, the server
 * refused the work for now (see isDatabaseUnavailable), or a statement was cancelled before it
 * finished. The consumer reconnects and tries it again. Its message follows the consumer's name in
 * the log.
 */
export class DatabaseFaultError extends Error {
  override name = 'DatabaseFaultError';
  constructor(cause: unknown) {
    super(
      isStatementCancelled(cause)
        ? `a statement was cancelled before it finished: ${describe(cause)}`
        : `the database is unavailable: ${describe(cause)}`,
      { cause },
    );
  }
}

/** The stored checkpoint is not where this consumer left it. */
export class CheckpointMovedError extends Error {
  override name = 'CheckpointMovedError';
  constructor(consumer: string) {
    super(`the checkpoint of ${consumer} was moved by someone else`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether the connection still answers a trivial query (in time). */
async function answers(client: pg.Client): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([client.query('SELECT 1').then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

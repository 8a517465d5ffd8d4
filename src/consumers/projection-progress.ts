import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { quoteIdentifier } from '../database/database-urls.js';
import { PG_POOL } from '../database/postgres-pool.js';
import { EVENT_STORE, type EventStore, type Position } from '../event-store/event-store.port.js';
import { comparePositions } from '../event-store/position.js';
import type { Projection } from '../../projections/projection.js';
import { LIVE_READ_MODEL_SCHEMA, READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';
import { isTenancyEventType } from '../tenancy/tenancy.events.js';

const PROJECTION_NAMES = READ_MODEL_PROJECTIONS.map((projection) => projection.name);
const PROJECTIONS = new Map(READ_MODEL_PROJECTIONS.map((projection) => [projection.name, projection]));
/**
 * Most events a read with Min-Position reads from the log past a stored checkpoint to see that
 * none of them changes that projection. The checkpoint of a projector that is running is at most
 * about 50 ms of the log behind its progress (ConsumerOptions.checkpointDelayMs); a wider gap is
 * left to the checkpoint to close.
 */
const LOG_CHECK_EVENTS = 256;

/** Where a local projector has got to (see ConsumerOptions.onProgress). */
interface LocalProgress {
  readonly applied: Position;
  readonly stored: Position | undefined;
}

/**
 * How far the live read models are: what a read that asks for Min-Position waits on. The local
 * projectors' progress wakes a waiting read at once; the stored checkpoint is the truth, so a
 * projector active in another instance is seen too.
 */
@Injectable()
export class ProjectionProgress {
  private readonly waiters = new Set<() => void>();
  private readonly local = new Map<string, LocalProgress>();

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /** Told by the local projectors after each batch and each checkpoint stored on its own. */
  progressed(projection: string, applied: Position, stored: Position | undefined): void {
    this.local.set(projection, { applied, stored });
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves on the next local commit or after `timeoutMs`. */
  nextCommit(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  /**
   * Waits for the next local commit (or `pollMs`, for projectors in other instances), then tries
   * `attempt`; again until it answers or `timeoutMs` have passed. Its answer, or undefined.
   */
  async until<T>(
    attempt: () => Promise<T | undefined>,
    timeoutMs: number,
    pollMs = 25,
  ): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (let left = timeoutMs; left > 0; left = deadline - Date.now()) {
      await this.nextCommit(Math.min(pollMs, left));
      const answer = await attempt();
      if (answer !== undefined) return answer;
    }
    return undefined;
  }

  /**
   * Whether every read model has applied the event at this position (or later ones): a read may
   * join the tenancy tables with the membership ones, so all of them must have got there.
   *
   * A read model has when its stored checkpoint has; or when a local projector has applied it
   * without storing it yet (those batches changed nothing: see ConsumerOptions.checkpointDelayMs)
   * and the stored checkpoint is still the one that projector stored (once the stored one is
   * another, a replay swapped in rebuilt tables or another instance took over, that proves
   * nothing); or, for a projection that not every event changes (Projection.changedBy), when the
   * log from its stored checkpoint up to the position holds none that does: an instance other than
   * the projector's learns so without waiting for the checkpoint.
   */
  async hasApplied(position: Position): Promise<boolean> {
    const { rows } = await this.pool.query<{ projection: string; position: string }>(
      `SELECT projection, position FROM ${quoteIdentifier(LIVE_READ_MODEL_SCHEMA)}.checkpoints
       WHERE projection = ANY ($1)`,
      [PROJECTION_NAMES],
    );
    if (rows.length !== PROJECTION_NAMES.length) return false;
    const unproven: { projection: Projection; stored: Position }[] = [];
    for (const row of rows) {
      const stored = row.position as Position;
      if (comparePositions(stored, position) >= 0) continue;
      const local = this.local.get(row.projection);
      if (local?.stored === stored && comparePositions(local.applied, position) >= 0) continue;
      const projection = PROJECTIONS.get(row.projection);
      if (!projection?.changedBy) return false;
      unproven.push({ projection, stored });
    }
    for (const { projection, stored } of unproven) {
      if (!(await this.changesNothingBetween(projection, stored, position))) return false;
    }
    return true;
  }

  /**
   * Whether the log after `stored` up to and including `position` holds no event that changes the
   * projection, read as far as LOG_CHECK_EVENTS of its events; false where that does not reach
   * the position.
   */
  private async changesNothingBetween(
    projection: Projection,
    stored: Position,
    position: Position,
  ): Promise<boolean> {
    const page = await this.store.readAll({
      after: stored,
      maxCount: LOG_CHECK_EVENTS,
      filter: projection.filter,
    });
    let reached = false;
    for (const event of page.events) {
      if (comparePositions(event.position, position) > 0) return true;
      // A type this version does not know may change it (a newer version wrote it).
      if (!isTenancyEventType(event.type) || projection.changedBy?.has(event.type)) return false;
      reached = comparePositions(event.position, position) === 0;
    }
    return reached;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { quoteIdentifier } from '../database/database-urls.js';
import { PG_POOL } from '../database/postgres-pool.js';
import type { Position } from '../event-store/event-store.port.js';
import { comparePositions } from '../event-store/position.js';
import { LIVE_READ_MODEL_SCHEMA, READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';

const PROJECTION_NAMES = READ_MODEL_PROJECTIONS.map((projection) => projection.name);

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

  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

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
   * Whether every read model has applied the event at this position (or later ones): a read may
   * join the tenancy tables with the membership ones, so all of them must have got there.
   *
   * A read model has when its stored checkpoint has; or when a local projector has applied it
   * without storing it yet (those batches changed nothing: see ConsumerOptions.checkpointDelayMs)
   * and the stored checkpoint is still the one that projector stored. Once the stored one is
   * another (a replay swapped in rebuilt tables, another instance took over), only it counts.
   */
  async hasApplied(position: Position): Promise<boolean> {
    const { rows } = await this.pool.query<{ projection: string; position: string }>(
      `SELECT projection, position FROM ${quoteIdentifier(LIVE_READ_MODEL_SCHEMA)}.checkpoints
       WHERE projection = ANY ($1)`,
      [PROJECTION_NAMES],
    );
    return (
      rows.length === PROJECTION_NAMES.length &&
      rows.every((row) => {
        const stored = row.position as Position;
        if (comparePositions(stored, position) >= 0) return true;
        const local = this.local.get(row.projection);
        return local?.stored === stored && comparePositions(local.applied, position) >= 0;
      })
    );
  }
}

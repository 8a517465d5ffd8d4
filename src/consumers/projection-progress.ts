import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { quoteIdentifier } from '../database/database-urls.js';
import { PG_POOL } from '../database/postgres-pool.js';
import type { Position } from '../event-store/event-store.port.js';
import { comparePositions } from '../event-store/position.js';
import { LIVE_READ_MODEL_SCHEMA, READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';

const PROJECTION_NAMES = READ_MODEL_PROJECTIONS.map((projection) => projection.name);

/**
 * How far the live read models are: what a read that asks for Min-Position waits on. The local
 * projectors' commits wake a waiting read at once; the stored checkpoint is the truth, so a
 * projector active in another instance is seen too.
 */
@Injectable()
export class ProjectionProgress {
  private readonly waiters = new Set<() => void>();

  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** Told by the local projectors after each committed batch. */
  committed(_projection: string, _position: Position): void {
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
   */
  async hasApplied(position: Position): Promise<boolean> {
    const { rows } = await this.pool.query<{ position: string }>(
      `SELECT position FROM ${quoteIdentifier(LIVE_READ_MODEL_SCHEMA)}.checkpoints WHERE projection = ANY ($1)`,
      [PROJECTION_NAMES],
    );
    return (
      rows.length === PROJECTION_NAMES.length &&
      rows.every((row) => comparePositions(row.position as Position, position) >= 0)
    );
  }
}

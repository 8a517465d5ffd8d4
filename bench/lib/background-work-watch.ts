import type pg from 'pg';
import { AutovacuumWatch } from './autovacuum-watch.js';
import { CheckpointWatch } from './checkpoint-watch.js';

/**
 * What PostgreSQL did in the background over a scenario's measured window, the checkpoints that
 * finished and what autovacuum worked on: both share the cores and the disk with what is measured,
 * and a full run's earlier scenarios leave work for them.
 */
export class BackgroundWorkWatch {
  private readonly autovacuum: AutovacuumWatch;
  private readonly checkpoints: CheckpointWatch;

  constructor(pool: pg.Pool) {
    this.autovacuum = new AutovacuumWatch(pool);
    this.checkpoints = new CheckpointWatch(pool);
  }

  start(): void {
    this.autovacuum.start();
    this.checkpoints.start();
  }

  /** Stops both; says what they saw, with times in seconds after `origin` (a performance.now()). */
  async stop(origin: number): Promise<string> {
    const checkpoints = await this.checkpoints.stop(origin);
    return `${checkpoints}; ${await this.autovacuum.stop()}`;
  }
}

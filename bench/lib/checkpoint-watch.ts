import type pg from 'pg';
import { round } from './stats.js';

interface CheckpointerReading {
  /** Checkpoints performed since the counters were reset. */
  readonly done: number;
  readonly writeMs: number;
  readonly syncMs: number;
  readonly buffersWritten: number;
}

/**
 * Looks once a second at PostgreSQL's checkpoint counters, so that a latency scenario can say
 * whether a checkpoint finished while it measured, and when: a checkpoint's writes and its fsyncs at
 * the end share the disk with every commit. PostgreSQL 18 counts the checkpoints performed
 * (`num_done`); 17 only those asked for, skipped ones included; earlier servers keep the counters in
 * pg_stat_bgwriter.
 */
export class CheckpointWatch {
  private timer: NodeJS.Timeout | undefined;
  private first: CheckpointerReading | undefined;
  private last: CheckpointerReading | undefined;
  /** performance.now() of each look that found more checkpoints done than the look before. */
  private readonly finishedAt: number[] = [];
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly intervalMs = 1000,
  ) {}

  /** Takes the first reading now, then looks every interval. */
  start(): void {
    this.pending = this.read()
      .then((reading) => {
        this.first = reading;
        this.last = reading;
      })
      .catch(() => undefined);
    this.timer = setInterval(() => {
      this.pending = this.pending.then(() => this.look()).catch(() => undefined);
    }, this.intervalMs);
  }

  /**
   * Stops looking; says what finished, with times in seconds after `origin` (a performance.now()),
   * e.g. "1 checkpoint finished, seen at 7 s (looked once a second); over the window the
   * checkpointer wrote 4,321 buffers in 1,234 ms and synced them in 56 ms".
   */
  async stop(origin: number): Promise<string> {
    clearInterval(this.timer);
    await this.pending;
    const end = await this.read().catch(() => undefined);
    if (!this.first || !end) return 'checkpoints not seen: the checkpointer statistics could not be read';
    if (this.last && end.done > this.last.done) this.finishedAt.push(performance.now());
    const finished = end.done - this.first.done;
    const work = `over the window the checkpointer wrote ${(end.buffersWritten - this.first.buffersWritten).toLocaleString('en-US')} buffers in ${round(end.writeMs - this.first.writeMs, 0).toLocaleString('en-US')} ms and synced them in ${round(end.syncMs - this.first.syncMs, 0).toLocaleString('en-US')} ms`;
    if (finished <= 0) return `no checkpoint finished (looked once a second); ${work}`;
    const when = this.finishedAt.map((at) => `${round((at - origin) / 1000, 1)} s`).join(', ');
    return `${finished} checkpoint${finished === 1 ? '' : 's'} finished, seen at ${when} (looked once a second); ${work}`;
  }

  private async look(): Promise<void> {
    if (!this.first) return;
    const reading = await this.read();
    if (this.last && reading.done > this.last.done) this.finishedAt.push(performance.now());
    this.last = reading;
  }

  private async read(): Promise<CheckpointerReading> {
    const checkpointer = await this.pool
      .query<{ s: Record<string, string | number> }>('SELECT to_jsonb(c) AS s FROM pg_stat_checkpointer c')
      .then(({ rows }) => rows[0]?.s)
      .catch(() => undefined);
    if (checkpointer) {
      return {
        done: Number(
          checkpointer.num_done ?? Number(checkpointer.num_timed) + Number(checkpointer.num_requested),
        ),
        writeMs: Number(checkpointer.write_time),
        syncMs: Number(checkpointer.sync_time),
        buffersWritten: Number(checkpointer.buffers_written),
      };
    }
    const { rows } = await this.pool.query<{ s: Record<string, string | number> }>(
      'SELECT to_jsonb(b) AS s FROM pg_stat_bgwriter b',
    );
    const bgwriter = rows[0]?.s ?? {};
    return {
      done: Number(bgwriter.checkpoints_timed) + Number(bgwriter.checkpoints_req),
      writeMs: Number(bgwriter.checkpoint_write_time),
      syncMs: Number(bgwriter.checkpoint_sync_time),
      buffersWritten: Number(bgwriter.buffers_checkpoint),
    };
  }
}

import type pg from 'pg';

/**
 * Looks once a second at what PostgreSQL's autovacuum workers are doing (pg_stat_activity, every
 * database of the server), so that a scenario can say whether they shared the cores with it.
 */
export class AutovacuumWatch {
  private timer: NodeJS.Timeout | undefined;
  private looks = 0;
  private busyLooks = 0;
  private readonly seen = new Map<string, number>();
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.pending = this.look().catch(() => undefined);
    }, this.intervalMs);
  }

  /** Stops looking; says what was seen, e.g. "autovacuum at work in 12 of 30 looks: VACUUM public.events (db) 12". */
  async stop(): Promise<string> {
    clearInterval(this.timer);
    await this.pending;
    if (this.looks === 0) return 'autovacuum not seen: pg_stat_activity could not be read';
    if (this.busyLooks === 0) return `autovacuum idle in all ${this.looks} looks (one a second)`;
    const what = [...this.seen]
      .sort((a, b) => b[1] - a[1])
      .map(([work, looks]) => `${work} ${looks}`)
      .join(', ');
    return `autovacuum at work in ${this.busyLooks} of ${this.looks} looks (one a second): ${what}`;
  }

  private async look(): Promise<void> {
    const { rows } = await this.pool.query<{ datname: string | null; query: string }>(
      `SELECT datname, query FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`,
    );
    this.looks += 1;
    if (rows.length > 0) this.busyLooks += 1;
    for (const row of rows) {
      const work = `${row.query.replace(/^autovacuum:\s*/, '')} (${row.datname ?? '?'})`;
      this.seen.set(work, (this.seen.get(work) ?? 0) + 1);
    }
  }
}

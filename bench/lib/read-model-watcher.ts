import pg from 'pg';
import { sleep } from './stats.js';
import type { BenchContext } from './types.js';

export interface Watched {
  readonly tenantId: string;
  readonly workspaceId: string;
  /** performance.now() when the 201 had been read. */
  readonly at: number;
}

/**
 * Watches read_model.workspaces for created workspaces on a connection of its own, polling the
 * pending ones by primary key, and records for each the time from its 201 to the first poll that
 * saw its row: an over-estimate by up to one poll round (the pause plus the query).
 */
export class ReadModelWatcher {
  private readonly pending = new Map<string, Watched>();
  readonly lags: number[] = [];
  private client: pg.Client | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private graceEnd = Number.POSITIVE_INFINITY;

  constructor(
    private readonly ctx: BenchContext,
    private readonly pauseMs: number,
  ) {}

  async start(): Promise<void> {
    this.client = new pg.Client({ connectionString: this.ctx.databaseUrl, application_name: 'bench-lag' });
    await this.client.connect();
    this.running = this.poll(this.client);
  }

  watch(created: Watched): void {
    this.pending.set(`${created.tenantId}/${created.workspaceId}`, created);
  }

  /** Waits up to `graceMs` for the rows still pending; returns how many never appeared. */
  async stop(graceMs: number): Promise<number> {
    this.graceEnd = performance.now() + graceMs;
    this.stopping = true;
    await this.running;
    await this.client?.end();
    return this.pending.size;
  }

  private async poll(client: pg.Client): Promise<void> {
    for (;;) {
      if (this.stopping && (this.pending.size === 0 || performance.now() > this.graceEnd)) return;
      if (this.pending.size === 0) {
        await sleep(this.pauseMs);
        continue;
      }
      const batch = [...this.pending.values()].slice(0, 2_000);
      const { rows } = await client.query<{ tenant_id: string; workspace_id: string }>(
        `SELECT w.tenant_id::text, w.workspace_id::text FROM read_model.workspaces w
         JOIN unnest($1::uuid[], $2::uuid[]) AS t (tenant_id, workspace_id)
           ON w.tenant_id = t.tenant_id AND w.workspace_id = t.workspace_id`,
        [batch.map((c) => c.tenantId), batch.map((c) => c.workspaceId)],
      );
      const now = performance.now();
      for (const row of rows) {
        const key = `${row.tenant_id}/${row.workspace_id}`;
        const entry = this.pending.get(key);
        if (!entry) continue;
        this.lags.push(now - entry.at);
        this.pending.delete(key);
      }
      await sleep(this.pauseMs);
    }
  }
}

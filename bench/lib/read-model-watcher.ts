import pg from 'pg';
import type { TimedSample } from './stats.js';
import type { BenchContext } from './types.js';

export interface Watched {
  readonly tenantId: string;
  readonly workspaceId: string;
  /** performance.now() when the 201 had been read. */
  readonly at: number;
}

const CHANNEL = 'bench_workspace_seen';

/** What a scenario's notes say of how its lags were measured. */
export const WATCHER_NOTE =
  'a trigger on read_model.workspaces notifies the watcher from the inserting transaction, delivered once it commits; the lag ends when that notification is read';

/**
 * Watches read_model.workspaces for created workspaces on a connection of its own, and records for
 * each the time from its 201 to the moment this process learned that its row was committed.
 *
 * Told by the database rather than by polling: while it watches, a trigger on the table (the
 * benchmark's own, dropped at stop) sends a notification from the transaction that inserts a row,
 * and PostgreSQL delivers it once that transaction has committed, when the row is visible. Polling
 * every millisecond over-estimated each lag by up to one poll round, and its queries competed for
 * the machine with what was measured. The trigger costs the projector's transaction a call per
 * row and a notification at its commit, which count in the lag measured. A row committed before
 * its 201 was read counts as no lag.
 */
export class ReadModelWatcher {
  private readonly pending = new Map<string, Watched>();
  /** Rows seen before their 201 was read, with when. */
  private readonly early = new Map<string, number>();
  /** Each row's lag, with when its row was seen. */
  readonly timed: TimedSample[] = [];
  private client: pg.Client | undefined;
  private waiting: (() => void) | undefined;

  constructor(private readonly ctx: BenchContext) {}

  get lags(): number[] {
    return this.timed.map((sample) => sample.ms);
  }

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.ctx.databaseUrl, application_name: 'bench-lag' });
    await client.connect();
    this.client = client;
    client.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload) this.seen(message.payload, performance.now());
    });
    await client.query(`LISTEN ${CHANNEL}`);
    await client.query(
      `CREATE OR REPLACE FUNCTION public.${CHANNEL}() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM pg_notify('${CHANNEL}', NEW.tenant_id::text || '/' || NEW.workspace_id::text);
         RETURN NULL;
       END $$`,
    );
    await client.query(
      `CREATE OR REPLACE TRIGGER ${CHANNEL} AFTER INSERT ON read_model.workspaces
       FOR EACH ROW EXECUTE FUNCTION public.${CHANNEL}()`,
    );
  }

  watch(created: Watched): void {
    const key = `${created.tenantId}/${created.workspaceId}`;
    const seenAt = this.early.get(key);
    if (seenAt !== undefined) {
      this.early.delete(key);
      this.timed.push({ seenAt, ms: Math.max(0, seenAt - created.at) });
      return;
    }
    this.pending.set(key, created);
  }

  /** Waits up to `graceMs` for the rows still pending; returns how many never appeared. */
  async stop(graceMs: number): Promise<number> {
    if (this.pending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
    }
    this.waiting = undefined;
    await this.client?.query(`DROP TRIGGER IF EXISTS ${CHANNEL} ON read_model.workspaces`);
    await this.client?.query(`DROP FUNCTION IF EXISTS public.${CHANNEL}()`);
    await this.client?.end();
    this.early.clear();
    return this.pending.size;
  }

  private seen(key: string, at: number): void {
    const entry = this.pending.get(key);
    if (!entry) {
      this.early.set(key, at);
      return;
    }
    this.pending.delete(key);
    this.timed.push({ seenAt: at, ms: at - entry.at });
    if (this.pending.size === 0) this.waiting?.();
  }
}

import { randomUUID } from 'node:crypto';
import pg from 'pg';

export const LOG_CHANGED_CHANNEL = 'es_log_changed';
/** SQLSTATE of a setting the server does not know (idle_session_timeout before PostgreSQL 14). */
const UNDEFINED_SETTING = '42704';
/** How long appends gather before one NOTIFY announces them to other processes. */
const NOTIFY_INTERVAL_MS = 3;
/**
 * How long a woken subscriber lets further appends arrive before it reads, while appends of its
 * own process are under way: under load, one read then takes many events instead of each append
 * costing every subscriber a read of its own.
 */
export const WAKE_SETTLE_MS = 3;

/**
 * Wakes subscribers when the log may have grown.
 *
 * Appends made by this process wake local subscribers at once. Other processes learn of them by
 * LISTEN/NOTIFY; the NOTIFY is sent after the append committed, from a separate connection and
 * coalesced (at most one per few milliseconds), because a NOTIFY inside every append transaction
 * would serialise all commits on PostgreSQL's notification queue lock. A lost notification only
 * costs latency: subscribers also poll.
 */
export class LogChangeNotifier {
  private readonly waiters = new Set<() => void>();
  private listener: pg.Client | undefined;
  private listening: Promise<void> | undefined;
  private notifyScheduled = false;
  private closed = false;
  /** Tells this store's notifications from other processes' ones. */
  private readonly origin = randomUUID();

  constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
  ) {}

  /** Called after an append committed. */
  appended(): void {
    this.wakeLocal();
    this.sendNotify();
  }

  /**
   * Resolves when the log may have changed (true), after `timeoutMs` or when the signal aborts
   * (false), whichever comes first.
   */
  async waitForChange(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted || this.closed) return false;
    // Waiting from now on, while the LISTEN connection is still being opened: an append by this
    // process in the meantime must not go unnoticed (other processes' ones are left to polling).
    void this.ensureListening();
    return new Promise<boolean>((resolve) => {
      const finish = (woken: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        signal?.removeEventListener('abort', stop);
        resolve(woken);
      };
      const wake = (): void => finish(true);
      const stop = (): void => finish(false);
      const timer = setTimeout(stop, timeoutMs);
      this.waiters.add(wake);
      signal?.addEventListener('abort', stop, { once: true });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeLocal();
    const listener = this.listener;
    this.listener = undefined;
    if (listener) await listener.end().catch(() => undefined);
  }

  private wakeLocal(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /**
   * At most one NOTIFY per interval, sent at its end: under load one notification then stands for
   * many appends, and other processes' subscribers read them in one go instead of one read each.
   */
  private sendNotify(): void {
    if (this.closed || this.notifyScheduled) return;
    this.notifyScheduled = true;
    setTimeout(() => {
      this.notifyScheduled = false;
      if (this.closed) return;
      this.pool.query('SELECT pg_notify($1, $2)', [LOG_CHANGED_CHANNEL, this.origin]).catch(() => undefined);
    }, NOTIFY_INTERVAL_MS);
  }

  private ensureListening(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.listening ??= this.listen().catch(() => {
      // Without LISTEN the subscribers still poll; try again on the next wait.
      this.listening = undefined;
    });
    return this.listening;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: 'tenancy-listener',
    });
    // This process's own appends woke its subscribers already: its echo would only make each of
    // them read the log a second time.
    client.on('notification', (message) => {
      if (message.payload !== this.origin) this.wakeLocal();
    });
    client.on('error', () => {
      // A broken listener connection is replaced on the next wait; polling covers the gap.
      if (this.listener === client) {
        this.listener = undefined;
        this.listening = undefined;
      }
      client.end().catch(() => undefined);
    });
    await client.connect();
    // Idle by design: ended by the server's idle timeout (idle_session_timeout set for the
    // database or role), it was replaced only at the next wait, every few seconds, and the
    // notifications sent in between were lost.
    await client.query('SET idle_session_timeout = 0').catch((error: unknown) => {
      // A server before PostgreSQL 14 has no such setting, and ends no idle session.
      if (!(error instanceof pg.DatabaseError && error.code === UNDEFINED_SETTING)) throw error;
    });
    await client.query(`LISTEN ${LOG_CHANGED_CHANNEL}`);
    if (this.closed) {
      await client.end();
      return;
    }
    this.listener = client;
  }
}

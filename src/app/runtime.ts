import path from 'node:path';
import pg from 'pg';
import type { AppConfig } from '../config/app-config.js';
import type { EventStore } from '../event-store/event-store.port.js';
import { PostgresEventStore } from '../event-store/postgres/postgres-event-store.js';
import { requireLogBehindTransactionIds } from '../event-store/postgres/transaction-id-order.js';
import { quoteIdentifier, withDatabase } from '../database/database-urls.js';
import { startEmbeddedPostgres, type RunningPostgres } from '../database/embedded-postgres.server.js';
import { isDuplicateDatabase } from '../database/database-errors.js';
import { requireCurrentSchema, runMigrations } from '../database/migrations.js';
import { connectionConfig, createPool, type PoolOptions } from '../database/postgres-pool.js';

const EMBEDDED_DATABASE = 'tenancy';

/** The outside world the service runs on: its database and its event store, opened once at start. */
export interface Runtime {
  readonly databaseUrl: string;
  readonly pool: pg.Pool;
  readonly eventStore: EventStore;
  readonly eventStoreKind: 'postgresql' | 'eventstoredb';
  /**
   * The embedded PostgreSQL this process uses, if any; it stops it on close if it `owned()` it
   * (started or adopted it, or took it over from the process it shared it with).
   */
  readonly embedded: RunningPostgres | undefined;
  /** Describes where the data lives, for the start-up log (no secrets). */
  readonly description: string;
  close(): Promise<void>;
}

/** Where the runtime reports what it does (start-up, the embedded server's supervision). */
export type RuntimeLog = (level: 'log' | 'warn' | 'error', line: string) => void;

/** What opening does to the database's schema. */
export type SchemaPolicy =
  /** Applies pending migrations (the service, and the CLI commands that build or load). */
  | 'migrate'
  /** Changes nothing, and fails unless every migration is applied (the auditor's commands). */
  | 'require-current';

/**
 * Connects to DATABASE_URL, or starts the embedded PostgreSQL (data kept under the data
 * directory) when none is configured; applies pending migrations or checks there are none;
 * opens the event store.
 */
export async function openRuntime(
  config: AppConfig,
  log: RuntimeLog,
  pool: Pick<PoolOptions, 'queryTimeoutMs' | 'longTransactions'> = {},
  schema: SchemaPolicy = 'migrate',
): Promise<Runtime> {
  let embedded: RunningPostgres | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const dataDir = path.join(config.dataDir, 'postgres');
    log('log', `DATABASE_URL not set: using the embedded PostgreSQL in ${dataDir}`);
    embedded = await startEmbeddedPostgres({ dataDir, persistent: true, log });
    databaseUrl = withDatabase(embedded.adminUrl, EMBEDDED_DATABASE);
  }
  try {
    // Within the try: a server started here is stopped again if the start goes no further.
    if (embedded) await ensureDatabase(embedded.adminUrl, EMBEDDED_DATABASE);
    let newer: readonly string[];
    if (schema === 'migrate') {
      // An external database may not answer yet; the embedded one is up already.
      const outcome = await runMigrations(databaseUrl, {
        waitMs: embedded ? 0 : config.databaseStartWaitMs,
        log: (line) => log('warn', line),
      });
      newer = outcome.newer;
      log(
        'log',
        outcome.applied.length > 0
          ? `applied migrations: ${outcome.applied.join(', ')}`
          : 'database schema is up to date',
      );
    } else ({ newer } = await requireCurrentSchema(databaseUrl));
    if (newer.length > 0) {
      log(
        'warn',
        `the database's schema is ahead of this version: a newer version applied ${newer.join(', ')}, which this one does not know. It runs on it; roll forward when you can (docs/deploying.md, Upgrading)`,
      );
    }
    return await openWithDatabase(config, { ...pool, connectionString: databaseUrl }, embedded);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

async function openWithDatabase(
  config: AppConfig,
  poolOptions: PoolOptions,
  embedded: RunningPostgres | undefined,
): Promise<Runtime> {
  const databaseUrl = poolOptions.connectionString;
  const pool = createPool(poolOptions);
  if (!config.eventStoreUrl) await requireLogBehindTransactionIds(pool).catch(closing(pool));
  const eventStore = await openEventStore(config, pool, databaseUrl);
  // The address of the embedded one too: for psql, or another tool, against the same data.
  const where = `${embedded ? 'embedded PostgreSQL' : 'PostgreSQL'} at ${redact(databaseUrl)}`;
  return {
    databaseUrl,
    pool,
    eventStore,
    eventStoreKind: config.eventStoreUrl ? 'eventstoredb' : 'postgresql',
    embedded,
    description: config.eventStoreUrl
      ? `events in EventStoreDB at ${redact(config.eventStoreUrl)}, read models in ${where}`
      : `events and read models in ${where}`,
    async close() {
      await eventStore.close();
      await pool.end();
      await embedded?.stop();
    },
  };
}

/** Ends the pool, then fails with the error that stopped the opening. */
function closing(pool: pg.Pool): (error: unknown) => Promise<never> {
  return async (error) => {
    await pool.end();
    throw error;
  };
}

async function openEventStore(config: AppConfig, pool: pg.Pool, databaseUrl: string): Promise<EventStore> {
  if (config.eventStoreUrl) {
    const { createEsdbEventStore } = await import('../event-store/esdb/esdb-event-store.js');
    return createEsdbEventStore(config.eventStoreUrl);
  }
  return new PostgresEventStore(pool, databaseUrl);
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const admin = new pg.Client(connectionConfig(adminUrl));
  // A failure reaches the awaited call; without a listener, the connection's own 'error' event
  // (a server gone between two statements) would end the process instead.
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) {
      await admin.query(`CREATE DATABASE ${quoteIdentifier(database)}`).catch((error: unknown) => {
        // Created meanwhile by another process starting on the same server.
        if (!isDuplicateDatabase(error)) throw error;
      });
    }
  } finally {
    await admin.end();
  }
}

function redact(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}

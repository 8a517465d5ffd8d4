import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { createHttpApp } from '../../src/app/create-http-app.js';
import type { Runtime } from '../../src/app/runtime.js';
import { ApiKeyRegistry } from '../../src/application/access/api-key.registry.js';
import { createPool, type PoolOptions } from '../../src/database/postgres-pool.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export const OPERATOR_KEY = 'test-operator-key-0123456789abcdef';
export const AUTH = { Authorization: `Bearer ${OPERATOR_KEY}` };

export interface TestApp {
  readonly app: INestApplication;
  readonly server: Server;
  readonly runtime: Runtime;
  readonly database: TestDatabase;
  close(): Promise<void>;
}

/** The whole service over HTTP on a database of its own, as main.ts builds it. */
export async function startTestApp(overrides: Partial<AppConfig> = {}, logger?: Logger): Promise<TestApp> {
  const database = await createTestDatabase();
  const app = await startTestAppOn(database, overrides, logger);
  return {
    ...app,
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

/**
 * Another service instance on an existing database, with its own pool and event store, as a second
 * process would have. Closing it leaves the database alone.
 */
export async function startTestAppOn(
  database: TestDatabase,
  overrides: Partial<AppConfig> = {},
  /** Where the app logs (errors only to standard output unless given). */
  logger: Logger = createLogger('error'),
  /** How its pool connects, if not straight to the database (through a proxy, with a query timeout). */
  poolOptions: Partial<PoolOptions> = {},
): Promise<TestApp> {
  const pool = createPool({
    connectionString: database.url,
    max: 20,
    applicationName: 'tenancy-test-instance',
    ...poolOptions,
  });
  const eventStore = new PostgresEventStore(pool, database.url);
  const runtime: Runtime = {
    databaseUrl: database.url,
    pool,
    eventStore,
    eventStoreKind: 'postgresql',
    embedded: undefined,
    description: 'test database',
    close: async () => {
      await eventStore.close();
      await pool.end();
    },
  };
  const config: AppConfig = {
    ...loadConfig({}),
    operatorKey: OPERATOR_KEY,
    ...overrides,
    databaseUrl: database.url,
  };
  const app = await createHttpApp({ runtime, config }, logger);
  await app.init();
  // As a service process is once its readiness answers 200: its API keys read from the log.
  await app.get(ApiKeyRegistry).whenReady();
  return {
    app,
    server: app.getHttpServer() as Server,
    runtime,
    database,
    async close() {
      await app.close();
      await runtime.close();
    },
  };
}

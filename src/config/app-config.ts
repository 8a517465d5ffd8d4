import path from 'node:path';

/** Every setting the service reads from its environment, in one place. */
export interface AppConfig {
  readonly port: number;
  /** An external PostgreSQL; absent means: start the embedded one. */
  readonly databaseUrl: string | undefined;
  /** Data directory of the embedded PostgreSQL (kept between runs). */
  readonly dataDir: string;
  /** EventStoreDB/KurrentDB connection string; absent means: events live in PostgreSQL. */
  readonly eventStoreUrl: string | undefined;
  readonly operatorKey: string | undefined;
  readonly defaultTenant: string | undefined;
  /** false: this instance serves HTTP only and runs no projections or process managers. */
  readonly runConsumers: boolean;
  /** Workspaces the cascade deletes per append. */
  readonly cascadeBatchSize: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`PORT is not a port: ${env.PORT}`);
  const logLevel = (env.LOG_LEVEL ?? 'info') as AppConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be debug, info, warn or error, not ${env.LOG_LEVEL}`);
  }
  return {
    port,
    databaseUrl: nonEmpty(env.DATABASE_URL),
    dataDir: path.resolve(nonEmpty(env.TENANCY_DATA_DIR) ?? '.data'),
    eventStoreUrl: nonEmpty(env.EVENTSTORE_URL),
    operatorKey: nonEmpty(env.TENANCY_OPERATOR_KEY),
    defaultTenant: nonEmpty(env.TENANCY_DEFAULT_TENANT),
    runConsumers: (env.TENANCY_RUN_CONSUMERS ?? 'true').toLowerCase() !== 'false',
    cascadeBatchSize: positiveInteger(env.TENANCY_CASCADE_BATCH_SIZE, 500, 'TENANCY_CASCADE_BATCH_SIZE'),
    logLevel,
  };
}

function positiveInteger(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(`${name} must be a positive integer, not ${raw}`);
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Injection token of the AppConfig the service started with. */
export const APP_CONFIG = Symbol('AppConfig');

import 'reflect-metadata';
import type { Server } from 'node:http';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig, type AppConfig } from './config/app-config.js';
import { describeRelease } from './app/release.js';
import { generateOperatorKey } from './config/operator-key.js';
import { createLogger, NestPinoLogger } from './observability/logger.js';
import { logProcessWarnings } from './observability/process-warnings.js';
import { createHttpApp } from './app/create-http-app.js';
import { listeningMessage, listenRefusal } from './app/listening-port.js';
import {
  DEFAULT_SHUTDOWN,
  exitOnSignalWhileStarting,
  installGracefulShutdown,
} from './app/graceful-shutdown.js';
import { closeHungUpTerminalAtExit, exitOnUncaughtError } from './app/process-exit.js';
import { boundHeapGrowth } from './app/heap-growth.js';
import { openRuntime } from './app/runtime.js';
import { QUERY_TIMEOUT_MS } from './database/postgres-pool.js';

// JSON lines from the very first one: a bad setting is reported before anything else runs.
let log = createLogger('info');

async function main(): Promise<void> {
  closeHungUpTerminalAtExit();
  logProcessWarnings((fields, line) => log.warn(fields, line));
  exitOnUncaughtError((fields, line) => log.fatal(fields, line));
  const handOverSignals = exitOnSignalWhileStarting((line) => log.warn(line));
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.fatal({ problems: error.problems }, `invalid configuration: ${error.problems.join('; ')}`);
    process.exit(1);
  }
  boundHeapGrowth(config.heapGrowthPercent);
  log = createLogger(config.logLevel);
  Logger.overrideLogger(new NestPinoLogger(log));
  const logger = new Logger('Tenancy');
  logger.log(`${describeRelease()} starting`);
  if (!config.operatorKey) {
    const generated = await generateOperatorKey(config.dataDir);
    config = { ...config, operatorKey: generated.key };
    logger.warn(`TENANCY_OPERATOR_KEY is not set; this run accepts the operator key in ${generated.file}`);
  }
  const runtime = await openRuntime(config, (level, line) => logger[level](line), {
    queryTimeoutMs: QUERY_TIMEOUT_MS,
  });
  logger.log(runtime.description);
  const app = await createHttpApp({ runtime, config }, log).catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  handOverSignals();
  installGracefulShutdown(app, runtime, { ...DEFAULT_SHUTDOWN, delayMs: config.shutdownDelayMs });
  await app.listen(config.port).catch((error: unknown) => {
    throw listenRefusal(error, config.port);
  });
  // The port bound, which PORT=0 leaves to the system: whoever started the service reads it here.
  const address = (app.getHttpServer() as Server).address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  logger.log(listeningMessage(port));
}

main().catch((error: unknown) => {
  // The reason in the line itself, where a log viewer shows it; the error, its stack, beside it.
  log.fatal(
    { err: error },
    `the service could not start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});

import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { loadConfig } from './config/app-config.js';
import { createHttpApp } from './app/create-http-app.js';
import { installGracefulShutdown } from './app/graceful-shutdown.js';
import { openRuntime } from './app/runtime.js';

async function main(): Promise<void> {
  const logger = new Logger('Tenancy');
  let config = loadConfig();
  if (!config.operatorKey) {
    // A fresh checkout must be usable at once; the generated key lives only as long as the process.
    const generated = randomBytes(24).toString('base64url');
    config = { ...config, operatorKey: generated };
    logger.warn(`TENANCY_OPERATOR_KEY is not set; this run accepts the operator key ${generated}`);
  }
  const runtime = await openRuntime(config, (level, line) => logger[level](line));
  logger.log(runtime.description);
  const app = await createHttpApp({ runtime, config }).catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  installGracefulShutdown(app, runtime);
  await app.listen(config.port);
  logger.log(`listening on port ${config.port}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

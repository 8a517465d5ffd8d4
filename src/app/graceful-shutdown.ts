import type { Server } from 'node:http';
import net from 'node:net';
import { Logger, type INestApplication } from '@nestjs/common';
import { HttpDrain } from '../http/http-drain.js';
import { shellExitCode, STOP_SIGNALS } from './process-exit.js';
import type { Runtime } from './runtime.js';

export interface ShutdownOptions {
  /**
   * How long after the signal the service still takes connections, reporting itself as not ready,
   * so that a load balancer takes it out first (TENANCY_SHUTDOWN_DELAY_MS). 0: none.
   */
  readonly delayMs: number;
  /** How long requests in flight may take to finish before their connections are cut. */
  readonly drainTimeoutMs: number;
  /** After this long (beyond delayMs) the process exits (code 1) whatever is still pending. */
  readonly hardTimeoutMs: number;
}

/** No request for this long, and idle connections are taken to be idle for good. */
const QUIET_BEFORE_CLOSING_IDLE_MS = 500;

/** How long connections closed as idle may take to go before the rest are cut. */
const IDLE_CLOSE_GRACE_MS = 1_000;

/** Signals this close together are one request to stop, delivered twice. */
const DUPLICATE_SIGNAL_MS = 1_000;

export const DEFAULT_SHUTDOWN: ShutdownOptions = {
  delayMs: 0,
  drainTimeoutMs: 10_000,
  hardTimeoutMs: 30_000,
};

/**
 * A stop signal before installGracefulShutdown takes over (the embedded PostgreSQL being set up or
 * started, migrations, the application being built): nothing is served yet, so the start ends at
 * once, with the shell's exit code for the signal (143, 130, 129), through the process's exit
 * handlers, which a death by the signal itself skips. They tell the embedded PostgreSQL this
 * process started or adopted to stop; initdb's password file is gone already (initialise is
 * synchronous, so the signal is handled after it). Returns what removes the handlers.
 */
export function exitOnSignalWhileStarting(warn: (line: string) => void): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = shellExitCode(signal);
    warn(`${signal} before the service was up: exiting (${code})`);
    process.exit(code);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return () => {
    for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal);
  };
}

/**
 * The service's own answer to a stop signal (SIGTERM, SIGINT, SIGHUP), in order, each step
 * logged: on SIGTERM, for delayMs, readiness answers 503 while requests are still served; then
 * stop accepting connections, end the event streams, let requests in flight finish (bounded),
 * stop the consumers at a batch boundary and close the application, close the pools and
 * the event store, stop the embedded PostgreSQL; then exit 0. A second signal exits at once, unless
 * it comes within a second of the first: Ctrl-C under `npm start` reaches the service twice, from
 * the terminal and from npm passing it on.
 */
export function installGracefulShutdown(
  app: INestApplication,
  runtime: Runtime,
  options: ShutdownOptions = DEFAULT_SHUTDOWN,
): void {
  const logger = new Logger('Shutdown');
  let startedAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (startedAt !== undefined) {
      if (Date.now() - startedAt < DUPLICATE_SIGNAL_MS) return;
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    startedAt = Date.now();
    const hard = setTimeout(() => {
      logger.error(`shutdown still not done after ${options.delayMs + options.hardTimeoutMs} ms: exiting`);
      process.exit(1);
    }, options.delayMs + options.hardTimeoutMs);
    hard.unref();
    shutDown(app, runtime, options, logger, signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
}

async function shutDown(
  app: INestApplication,
  runtime: Runtime,
  options: ShutdownOptions,
  logger: Logger,
  signal: NodeJS.Signals,
): Promise<void> {
  const started = Date.now();
  const elapsed = (): string => `${Date.now() - started} ms`;
  const server = app.getHttpServer() as Server;
  const drain = app.get(HttpDrain);

  // Only a supervisor's SIGTERM waits for a load balancer: Ctrl-C and a closed terminal are a
  // person's, who expects the service gone at once.
  if (options.delayMs > 0 && signal === 'SIGTERM') {
    drain.announce({ signal, at: new Date(started), stopsAt: new Date(started + options.delayMs) });
    logger.log(
      `${signal}: shutting down in ${options.delayMs} ms; readiness answers 503 meanwhile, requests are still served`,
    );
    await sleep(options.delayMs);
  }
  logger.log(`${signal}: shutting down; no new connections`);
  // net.Server's close, not http.Server's: it stops accepting but leaves open keep-alive
  // connections alone. Closing them at once would race requests already on their way over them
  // (the client gets a reset); instead every answer from now on closes its connection.
  const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
  drain.begin();
  const deadline = Date.now() + options.drainTimeoutMs;
  const left = await drain.idle(options.drainTimeoutMs);
  if (left > 0)
    logger.warn(`${left} requests still running after ${options.drainTimeoutMs} ms: cutting them`);
  else logger.log(`requests in flight finished (${elapsed()})`);
  // What is left is idle: connections on which no request came since the signal. One more moment of
  // quiet first, for a request already sent over one of them and still on its way.
  await drain.quiet(QUIET_BEFORE_CLOSING_IDLE_MS, deadline);
  server.closeIdleConnections();
  await Promise.race([closed, sleep(IDLE_CLOSE_GRACE_MS)]);
  server.closeAllConnections();
  await closed;

  await app.close();
  logger.log(`consumers stopped, application closed (${elapsed()})`);
  const stopsEmbedded = runtime.embedded?.owned() ?? false;
  await runtime.close();
  logger.log(
    `database connections closed${stopsEmbedded ? ', embedded PostgreSQL stopped' : ''} (${elapsed()})`,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

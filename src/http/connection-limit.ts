import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/**
 * File descriptors left to everything but HTTP clients: the pool's and the consumers' database
 * connections, the LISTEN connection, the embedded server's pipes, logs, and modules loaded late.
 */
const DESCRIPTORS_KEPT = 256;
/** The default cap whatever the limit: each open connection costs memory too. */
const MAX_CONNECTIONS_CEILING = 10_000;
/** A flood is logged when it starts, then at most this often, with what it cost since. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

/**
 * The default connection cap: the process's open-files limit (`ulimit -n`, read from
 * /proc/self/limits) less DESCRIPTORS_KEPT (half the limit, if that is more), at most
 * MAX_CONNECTIONS_CEILING. Without a cap, clients that open connections and send nothing take
 * every descriptor: Node then accepts no client, and the service can open nothing of its own (a
 * database connection, a module it loads on first use).
 */
export function defaultMaxConnections(limits: string | undefined): number {
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits ?? '')?.[1];
  if (soft === undefined || soft === 'unlimited') return MAX_CONNECTIONS_CEILING;
  const limit = Number(soft);
  return Math.min(MAX_CONNECTIONS_CEILING, Math.max(Math.floor(limit / 2), limit - DESCRIPTORS_KEPT));
}

/** This process's resource limits as Linux shows them; undefined elsewhere. */
export function processLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Caps the server's open connections: Node closes one more as it arrives (its 'drop' event), which
 * a client sees at once, instead of waiting on a connection nobody will accept. Each refusal is
 * counted; the first of a flood is logged, then a summary at most every REFUSAL_LOG_INTERVAL_MS.
 */
export function limitConnections(server: Server, max: number, metrics: Metrics, log: Logger): void {
  server.maxConnections = max;
  metrics.reportConnectionsWith(
    () => new Promise((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count))),
  );
  let refusedSinceLog = 0;
  let summary: NodeJS.Timeout | undefined;
  server.on('drop', () => {
    metrics.httpConnectionsRefused.inc();
    if (summary !== undefined) {
      refusedSinceLog++;
      return;
    }
    log.warn(
      { context: 'HttpServer', maxConnections: max },
      `the HTTP server holds ${max} connections, its limit (TENANCY_HTTP_MAX_CONNECTIONS): new ones are closed as they arrive`,
    );
    // The rest of the flood in one line a while later, if there was any.
    summary = setTimeout(() => {
      summary = undefined;
      if (refusedSinceLog === 0) return;
      log.warn(
        { context: 'HttpServer', refused: refusedSinceLog, maxConnections: max },
        `${refusedSinceLog} more connections closed as they arrived in the last ${REFUSAL_LOG_INTERVAL_MS / 1000} s (TENANCY_HTTP_MAX_CONNECTIONS is ${max})`,
      );
      refusedSinceLog = 0;
    }, REFUSAL_LOG_INTERVAL_MS).unref();
  });
  server.once('close', () => clearTimeout(summary));
}

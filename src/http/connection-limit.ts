import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { floodWarnings } from '../observability/flood-warnings.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/**
 * File descriptors left to everything but HTTP clients: the pool's and the consumers' database
 * connections, the LISTEN connection, the embedded server's pipes, logs, and modules loaded late.
 */
const DESCRIPTORS_KEPT = 256;
/** The default cap whatever the limit: each open connection costs memory too. */
const MAX_CONNECTIONS_CEILING = 10_000;

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
 * counted; the first of a flood is logged, then a summary a minute while it lasts.
 */
export function limitConnections(server: Server, max: number, metrics: Metrics, log: Logger): void {
  server.maxConnections = max;
  metrics.reportConnectionsWith(
    () => new Promise((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count))),
  );
  const refusals = floodWarnings(log, (_counts, refused, intervalMs) => ({
    fields: { context: 'HttpServer', refused, maxConnections: max },
    message: `${refused} more connections closed as they arrived in the last ${intervalMs / 1000} s (TENANCY_HTTP_MAX_CONNECTIONS is ${max})`,
  }));
  server.on('drop', () => {
    metrics.httpConnectionsRefused.inc();
    refusals.note('refused', () => ({
      fields: { context: 'HttpServer', maxConnections: max },
      message: `the HTTP server holds ${max} connections, its limit (TENANCY_HTTP_MAX_CONNECTIONS): new ones are closed as they arrive`,
    }));
  });
  server.once('close', () => refusals.stop());
}

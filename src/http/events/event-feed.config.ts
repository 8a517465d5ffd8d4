/** Settings of the consumer feed, read from the environment when the HTTP layer starts. */
export interface EventFeedConfig {
  /** An idle stream sends a comment this often, so proxies and clients can tell it from a dead one. */
  readonly heartbeatMs: number;
}

export const EVENT_FEED_CONFIG = Symbol('EventFeedConfig');

const DEFAULT_HEARTBEAT_MS = 15_000;

export function loadEventFeedConfig(env: NodeJS.ProcessEnv = process.env): EventFeedConfig {
  const raw = env.TENANCY_SSE_HEARTBEAT_MS?.trim();
  if (raw === undefined || raw === '') return { heartbeatMs: DEFAULT_HEARTBEAT_MS };
  const heartbeatMs = Number(raw);
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < 10 || heartbeatMs > 300_000) {
    throw new Error(`TENANCY_SSE_HEARTBEAT_MS must be 10 to 300000 milliseconds, not ${raw}`);
  }
  return { heartbeatMs };
}

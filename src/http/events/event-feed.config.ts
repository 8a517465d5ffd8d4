/** Settings of the consumer feed, read from the environment when the HTTP layer starts. */
export interface EventFeedConfig {
  /** An idle stream sends a comment this often, so proxies and clients can tell it from a dead one. */
  readonly heartbeatMs: number;
  /** Event streams open at once in this instance; more are refused with 429. */
  readonly maxStreams: number;
  /** Event streams open at once with one API key (or the operator key). */
  readonly maxStreamsPerKey: number;
  /** A client that reads nothing for this long is disconnected (its stream resumes by Last-Event-ID). */
  readonly stallTimeoutMs: number;
}

export const EVENT_FEED_CONFIG = Symbol('EventFeedConfig');

export function loadEventFeedConfig(env: NodeJS.ProcessEnv = process.env): EventFeedConfig {
  return {
    heartbeatMs: integerSetting(env, 'TENANCY_SSE_HEARTBEAT_MS', 15_000, 10, 300_000),
    maxStreams: integerSetting(env, 'TENANCY_SSE_MAX_STREAMS', 256, 1, 100_000),
    maxStreamsPerKey: integerSetting(env, 'TENANCY_SSE_MAX_STREAMS_PER_KEY', 16, 1, 100_000),
    stallTimeoutMs: integerSetting(env, 'TENANCY_SSE_STALL_TIMEOUT_MS', 60_000, 100, 3_600_000),
  };
}

function integerSetting(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, not ${raw}`);
  }
  return value;
}

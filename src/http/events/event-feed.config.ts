/** Settings of the consumer feed, taken from the service's one config (src/config/app-config.ts). */
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

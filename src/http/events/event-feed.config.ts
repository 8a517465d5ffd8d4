/** Settings of the consumer feed, taken from the service's one config (src/config/app-config.ts). */
export interface EventFeedConfig {
  /** An idle stream sends a comment this often, so proxies and clients can tell it from a dead one. */
  readonly heartbeatMs: number;
}

export const EVENT_FEED_CONFIG = Symbol('EventFeedConfig');

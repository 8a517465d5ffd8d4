import { isConnectionError } from './reconnect-policy.js';

export type ConnectionState = 'connected' | 'reconnecting' | 'disconnected';

/**
 * What the adapter last learned about its link to EventStoreDB, for a health indicator. The gRPC
 * client reconnects on its own and reports nothing between calls, so this only knows what calls
 * and subscriptions told it: nothing has succeeded yet counts as disconnected, a subscription
 * waiting to resubscribe as reconnecting, and the latest call outcome decides otherwise.
 */
export class ConnectionStateTracker {
  private lastOutcome: 'none' | 'succeeded' | 'failed' = 'none';
  private readonly reconnecting = new Set<object>();
  private closed = false;

  get state(): ConnectionState {
    if (this.closed) return 'disconnected';
    if (this.reconnecting.size > 0) return 'reconnecting';
    return this.lastOutcome === 'succeeded' ? 'connected' : 'disconnected';
  }

  succeeded(): void {
    this.lastOutcome = 'succeeded';
  }

  /** Only unreachability changes the state: a refused request still proves the server answered. */
  failed(error: unknown): void {
    this.lastOutcome = isConnectionError(error) ? 'failed' : 'succeeded';
  }

  subscriptionDropped(subscription: object): void {
    this.reconnecting.add(subscription);
  }

  subscriptionRecovered(subscription: object): void {
    this.reconnecting.delete(subscription);
    this.succeeded();
  }

  subscriptionEnded(subscription: object): void {
    this.reconnecting.delete(subscription);
  }

  close(): void {
    this.closed = true;
  }
}

import { ErrorType } from '@eventstore/db-client';

/**
 * When a subscription to EventStoreDB drops, it is opened again from the last position it
 * delivered. Retrying at once would hammer a node that is restarting or electing a leader, so the
 * wait grows exponentially up to a ceiling; the jitter spreads the instances of a cluster-wide
 * outage so they do not all come back in the same instant.
 */
export interface ReconnectPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  /** Fraction of the delay (0..1) that is randomly taken off, so waits fall in [delay * (1 - jitter), delay]. */
  readonly jitter: number;
  /** Consecutive failed attempts after which the subscription gives up and throws. */
  readonly maxAttempts: number;
}

export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = {
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 0.2,
  // A projection that stops on a long outage needs a human to restart it; waiting is cheaper.
  maxAttempts: Number.POSITIVE_INFINITY,
};

/**
 * How long to wait before reconnect attempt number `attempt` (1 for the first retry after a drop),
 * or undefined when the policy says to give up.
 */
export function reconnectDelay(
  policy: ReconnectPolicy,
  attempt: number,
  random: () => number = Math.random,
): number | undefined {
  if (attempt < 1) throw new RangeError(`reconnect attempts count from 1, not ${attempt}`);
  if (attempt > policy.maxAttempts) return undefined;
  // Capping the exponent keeps a long outage from overflowing to Infinity before the ceiling applies.
  const exponent = Math.min(attempt - 1, 64);
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** exponent);
  const jitter = Math.min(Math.max(policy.jitter, 0), 1);
  return Math.round(ceiling * (1 - jitter * random()));
}

/** Transport trouble a new attempt can get past; everything else is a fault a retry would only repeat. */
const TRANSIENT_ERROR_TYPES: ReadonlySet<string> = new Set([
  ErrorType.UNAVAILABLE,
  ErrorType.CANCELLED,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.NOT_LEADER,
  // The client's name for an unexpected gRPC status, which is how a reset HTTP/2 stream surfaces.
  ErrorType.UNKNOWN,
]);

/** Errors that mean the server could not be reached (as opposed to a refused request). */
const CONNECTION_ERROR_TYPES: ReadonlySet<string> = new Set([
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
]);

/** The client's own message when gossip finds no node (it throws a plain Error for it). */
const DISCOVERY_FAILURE = /^Failed to discover after \d+ attempts/;

export function isTransientError(error: unknown): boolean {
  return hasErrorType(error, TRANSIENT_ERROR_TYPES) || isDiscoveryFailure(error);
}

export function isConnectionError(error: unknown): boolean {
  return hasErrorType(error, CONNECTION_ERROR_TYPES) || isDiscoveryFailure(error);
}

function hasErrorType(error: unknown, types: ReadonlySet<string>): boolean {
  if (!(error instanceof Error)) return false;
  const type = (error as { type?: unknown }).type;
  return typeof type === 'string' && types.has(type);
}

function isDiscoveryFailure(error: unknown): boolean {
  return error instanceof Error && DISCOVERY_FAILURE.test(error.message);
}

import type { AllStreamResolvedEvent } from '@eventstore/db-client';
import type { Position, RecordedEvent } from '../event-store.port.js';
import { comparePositions } from '../position.js';
import { recordPosition, toRecordedEvent } from './esdb-event-mapping.js';
import { isTransientError, reconnectDelay, type ReconnectPolicy } from './reconnect-policy.js';

/** The part of the client's catch-up subscription to $all this module relies on. */
export interface LogSubscription extends AsyncIterable<AllStreamResolvedEvent> {
  unsubscribe(): Promise<void>;
  /** The server accepted the subscription: it is live even if no event arrives for a while. */
  once(event: 'confirmation', listener: () => void): unknown;
}

/** Opens a subscription delivering the log after `after` (from the start when undefined). */
export type OpenLogSubscription = (after: Position | undefined) => LogSubscription;

export interface ResumableSubscriptionOptions {
  readonly open: OpenLogSubscription;
  /** Exclusive start; undefined for the start of the log. */
  readonly after: Position | undefined;
  /** The client-side part of the filter (the server may have filtered on part of it). */
  readonly accept: (event: RecordedEvent) => boolean;
  readonly policy: ReconnectPolicy;
  readonly signal?: AbortSignal;
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /** The subscription is live again after a drop (or for the first time). */
  readonly onLive?: () => void;
  /** The subscription dropped and will be opened again after `delayMs`. */
  readonly onDropped?: (error: unknown, delayMs: number) => void;
}

const ABORTED = Symbol('aborted');

/**
 * The log from a position on, surviving dropped subscriptions.
 *
 * Every record pulled from the subscription, delivered or filtered out, moves the resume point,
 * because records arrive in log order: once a record has been pulled, everything before it has
 * been handed to the consumer or rejected. A new subscription starts from that point and anything
 * at or before it is skipped, which also makes the start exclusive whether or not the server
 * treats a start position as inclusive. The consumer pulls each event, so at most the client's
 * small stream buffer is read ahead.
 */
export async function* resumableSubscription(
  options: ResumableSubscriptionOptions,
): AsyncGenerator<RecordedEvent> {
  const { signal, policy } = options;
  const sleep = options.sleep ?? abortableSleep;
  let after = options.after;
  let failedAttempts = 0;
  while (!signal?.aborted) {
    const subscription = options.open(after);
    const iterator = subscription[Symbol.asyncIterator]();
    let live = false;
    const markLive = (): void => {
      if (live) return;
      live = true;
      failedAttempts = 0;
      options.onLive?.();
    };
    subscription.once('confirmation', markLive);
    const stop = (): void => void subscription.unsubscribe().catch(() => undefined);
    signal?.addEventListener('abort', stop, { once: true });
    let failure: Error | undefined;
    try {
      for (;;) {
        const next = await nextUnlessAborted(iterator, signal);
        if (next === ABORTED) return;
        if (next.done) break;
        markLive();
        const position = recordPosition(next.value);
        if (position === undefined) continue;
        if (after !== undefined && comparePositions(position, after) <= 0) continue;
        const event = toRecordedEvent(next.value);
        after = position;
        if (event && options.accept(event)) yield event;
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    } finally {
      signal?.removeEventListener('abort', stop);
      await iterator.return?.().catch(() => undefined);
      await subscription.unsubscribe().catch(() => undefined);
    }
    if (signal?.aborted) return;
    if (failure !== undefined && !isTransientError(failure)) throw failure;
    failedAttempts += 1;
    const delayMs = reconnectDelay(policy, failedAttempts, options.random);
    if (delayMs === undefined) {
      throw failure ?? new Error(`the subscription to $all ended ${failedAttempts} times in a row`);
    }
    options.onDropped?.(failure, delayMs);
    await sleep(delayMs, signal);
  }
}

async function nextUnlessAborted<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal | undefined,
): Promise<IteratorResult<T> | typeof ABORTED> {
  if (!signal) return iterator.next();
  if (signal.aborted) return ABORTED;
  const pending = iterator.next();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<typeof ABORTED>((resolve) => {
    onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const outcome = await Promise.race([pending, aborted]);
    // A read still in flight when the consumer stops must not surface as an unhandled rejection.
    if (outcome === ABORTED) void pending.catch(() => undefined);
    return outcome;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

import { describe, expect, it } from '@jest/globals';
import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  NotLeaderError,
  StreamDeletedError,
  TimeoutError,
  UnavailableError,
  UnknownError,
} from '@eventstore/db-client';
import type { Position, RecordedEvent } from '../../src/event-store/event-store.port.js';
import {
  DEFAULT_RECONNECT_POLICY,
  isConnectionError,
  isTransientError,
  reconnectDelay,
  type ReconnectPolicy,
} from '../../src/event-store/esdb/reconnect-policy.js';
import {
  resumableSubscription,
  type OpenLogSubscription,
} from '../../src/event-store/esdb/resumable-subscription.js';
import { encodePosition } from '../../src/event-store/position.js';
import { FakeSubscription, record, type SubscriptionStep } from './esdb-fakes.js';

const policy: ReconnectPolicy = {
  initialDelayMs: 100,
  maxDelayMs: 1_000,
  multiplier: 2,
  jitter: 0.5,
  maxAttempts: 5,
};
const at = (commit: number): Position => encodePosition(BigInt(commit), BigInt(commit));

describe('reconnect policy: delays', () => {
  it('doubles from the initial delay when no jitter is drawn', () => {
    const delays = [1, 2, 3, 4].map((attempt) => reconnectDelay(policy, attempt, () => 0));
    expect(delays).toEqual([100, 200, 400, 800]);
  });

  it('never waits longer than the ceiling', () => {
    expect(reconnectDelay(policy, 5, () => 0)).toBe(1_000);
    expect(reconnectDelay({ ...policy, maxAttempts: Infinity }, 1_000, () => 0)).toBe(1_000);
  });

  it('takes at most the jitter fraction off the delay', () => {
    expect(reconnectDelay(policy, 2, () => 1)).toBe(100);
    expect(reconnectDelay(policy, 2, () => 0.5)).toBe(150);
    expect(reconnectDelay({ ...policy, jitter: 0 }, 2, () => 1)).toBe(200);
  });

  it('gives up after the last allowed attempt', () => {
    expect(reconnectDelay(policy, 5, () => 0)).toBeDefined();
    expect(reconnectDelay(policy, 6, () => 0)).toBeUndefined();
  });

  it('keeps retrying by default, with a bounded wait', () => {
    expect(reconnectDelay(DEFAULT_RECONNECT_POLICY, 10_000, () => 0)).toBe(
      DEFAULT_RECONNECT_POLICY.maxDelayMs,
    );
  });

  it('counts attempts from 1', () => {
    expect(() => reconnectDelay(policy, 0)).toThrow(RangeError);
  });
});

describe('reconnect policy: which errors are worth a retry', () => {
  it.each([
    ['unavailable', new UnavailableError()],
    ['cancelled by the server', new CancelledError()],
    ['deadline exceeded', new DeadlineExceededError()],
    ['timeout', new TimeoutError()],
    ['unknown gRPC failure', new UnknownError()],
    ['gossip found no node', new Error('Failed to discover after 10 attempts.')],
  ])('%s is transient', (_name, error) => {
    expect(isTransientError(error)).toBe(true);
  });

  it('a follower answering a leader-only call is transient', () => {
    const notLeader = Object.create(NotLeaderError.prototype) as NotLeaderError;
    Object.assign(notLeader, { type: 'not-leader' });
    expect(isTransientError(notLeader)).toBe(true);
  });

  it.each([
    ['access denied', new AccessDeniedError()],
    ['a deleted stream', StreamDeletedError.fromStreamName('s')],
    ['a plain bug', new TypeError('undefined is not a function')],
    ['not even an error', 'oops'],
  ])('%s is not transient', (_name, error) => {
    expect(isTransientError(error)).toBe(false);
  });

  it('only unreachability counts as a connection error', () => {
    expect(isConnectionError(new UnavailableError())).toBe(true);
    expect(isConnectionError(new DeadlineExceededError())).toBe(true);
    expect(isConnectionError(new Error('Failed to discover after 3 attempts.'))).toBe(true);
    expect(isConnectionError(new AccessDeniedError())).toBe(false);
    expect(isConnectionError(new UnknownError())).toBe(false);
  });
});

/** Drives resumableSubscription over scripted subscriptions, recording where each one was opened. */
function harness(scripts: Array<{ steps: SubscriptionStep[]; ending?: 'stay-open' | 'end' }>) {
  const opened: Array<Position | undefined> = [];
  const subscriptions: FakeSubscription[] = [];
  const sleeps: number[] = [];
  const open: OpenLogSubscription = (after) => {
    opened.push(after);
    const script = scripts[subscriptions.length] ?? { steps: [] };
    const subscription = new FakeSubscription(script.steps, script.ending);
    subscriptions.push(subscription);
    return subscription;
  };
  const controller = new AbortController();
  const run = (
    options: { after?: Position; accept?: (event: RecordedEvent) => boolean; policy?: ReconnectPolicy } = {},
  ) =>
    resumableSubscription({
      open,
      after: options.after,
      accept: options.accept ?? (() => true),
      policy: options.policy ?? policy,
      signal: controller.signal,
      random: () => 0,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
  const take = async (events: AsyncIterable<RecordedEvent>, count: number): Promise<RecordedEvent[]> => {
    const taken: RecordedEvent[] = [];
    for await (const event of events) {
      taken.push(event);
      if (taken.length === count) break;
    }
    return taken;
  };
  return { opened, subscriptions, sleeps, controller, run, take };
}

const commits = (events: readonly RecordedEvent[]): number[] =>
  events.map((event) => Number(event.data.commit));

describe('resumable subscription: delivery', () => {
  it('delivers in log order and starts after the start position, not at it', async () => {
    const h = harness([{ steps: [record({ commit: 10 }), record({ commit: 20 }), record({ commit: 30 })] }]);
    expect(commits(await h.take(h.run({ after: at(10) }), 2))).toEqual([20, 30]);
    expect(h.opened).toEqual([at(10)]);
  });

  it('subscribes from the start when there is no start position', async () => {
    const h = harness([{ steps: [record({ commit: 1 })] }]);
    expect(commits(await h.take(h.run(), 1))).toEqual([1]);
    expect(h.opened).toEqual([undefined]);
  });

  it('skips system events and applies the client-side filter', async () => {
    const h = harness([
      {
        steps: [
          record({ commit: 1, type: '$statsCollected' }),
          record({ commit: 2, type: 'Dropped' }),
          record({ commit: 3, type: 'Kept' }),
        ],
      },
    ]);
    const events = await h.take(h.run({ accept: (event) => event.type === 'Kept' }), 1);
    expect(commits(events)).toEqual([3]);
  });

  it('pulls from the subscription only as the consumer asks', async () => {
    const h = harness([{ steps: [1, 2, 3, 4, 5].map((commit) => record({ commit })) }]);
    const iterator = h.run()[Symbol.asyncIterator]();
    await iterator.next();
    expect(h.subscriptions[0]?.pulled).toBe(1);
    await iterator.next();
    expect(h.subscriptions[0]?.pulled).toBe(2);
    await iterator.return(undefined);
  });
});

describe('resumable subscription: dropped connections', () => {
  it('resubscribes from the last delivered event and loses, repeats and reorders nothing', async () => {
    const h = harness([
      { steps: [record({ commit: 1 }), record({ commit: 2 }), new UnavailableError()] },
      // A server that treats the start as inclusive sends event 2 again; it must not reach the consumer twice.
      { steps: [record({ commit: 2 }), record({ commit: 3 }), record({ commit: 4 })] },
    ]);
    expect(commits(await h.take(h.run(), 4))).toEqual([1, 2, 3, 4]);
    expect(h.opened).toEqual([undefined, at(2)]);
    expect(h.subscriptions[0]?.unsubscribed).toBe(true);
  });

  it('resumes past events the filter dropped, so they are not scanned again', async () => {
    const h = harness([
      {
        steps: [
          record({ commit: 1, type: 'Kept' }),
          record({ commit: 2, type: 'Dropped' }),
          new UnavailableError(),
        ],
      },
      { steps: [record({ commit: 3, type: 'Kept' })] },
    ]);
    const events = await h.take(h.run({ accept: (event) => event.type === 'Kept' }), 2);
    expect(commits(events)).toEqual([1, 3]);
    expect(h.opened).toEqual([undefined, at(2)]);
  });

  it('resubscribes from the original start when nothing was delivered yet', async () => {
    const h = harness([{ steps: [new UnavailableError()] }, { steps: [record({ commit: 8 })] }]);
    expect(commits(await h.take(h.run({ after: at(7) }), 1))).toEqual([8]);
    expect(h.opened).toEqual([at(7), at(7)]);
  });

  it('treats a subscription the server ended as dropped', async () => {
    const h = harness([
      { steps: [record({ commit: 1 })], ending: 'end' },
      { steps: [record({ commit: 2 })] },
    ]);
    expect(commits(await h.take(h.run(), 2))).toEqual([1, 2]);
    expect(h.opened).toEqual([undefined, at(1)]);
  });

  it('backs off exponentially while attempts keep failing', async () => {
    const h = harness([
      { steps: [new UnavailableError()] },
      { steps: [new UnavailableError()] },
      { steps: [new UnavailableError()] },
      { steps: [record({ commit: 1 })] },
    ]);
    await h.take(h.run(), 1);
    expect(h.sleeps).toEqual([100, 200, 400]);
  });

  it('starts the backoff over once a subscription is live again', async () => {
    const h = harness([
      { steps: [new UnavailableError()] },
      { steps: ['confirm', new UnavailableError()] },
      { steps: [record({ commit: 1 }), new UnavailableError()] },
      { steps: [record({ commit: 2 })] },
    ]);
    await h.take(h.run(), 2);
    expect(h.sleeps).toEqual([100, 100, 100]);
  });

  it('gives up with the last error after the allowed attempts', async () => {
    const h = harness(
      Array.from({ length: 10 }, () => ({ steps: [new UnavailableError(undefined, 'down')] })),
    );
    await expect(h.take(h.run({ policy: { ...policy, maxAttempts: 2 } }), 1)).rejects.toThrow('down');
    expect(h.opened).toHaveLength(3);
  });

  it('does not retry an error a retry would only repeat', async () => {
    const h = harness([
      { steps: [new AccessDeniedError(undefined, 'denied')] },
      { steps: [record({ commit: 1 })] },
    ]);
    await expect(h.take(h.run(), 1)).rejects.toBeInstanceOf(AccessDeniedError);
    expect(h.opened).toHaveLength(1);
  });
});

describe('resumable subscription: stopping', () => {
  it('ends cleanly and unsubscribes when aborted while waiting for events', async () => {
    const h = harness([{ steps: [record({ commit: 1 })] }]);
    const iterator = h.run()[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    const waiting = iterator.next();
    setTimeout(() => h.controller.abort(), 10);
    expect((await waiting).done).toBe(true);
    expect(h.subscriptions[0]?.unsubscribed).toBe(true);
    expect(h.opened).toHaveLength(1);
  });

  it('unsubscribes when the consumer stops iterating', async () => {
    const h = harness([{ steps: [record({ commit: 1 }), record({ commit: 2 })] }]);
    await h.take(h.run(), 1);
    expect(h.subscriptions[0]?.unsubscribed).toBe(true);
  });

  it('opens nothing when already aborted', async () => {
    const h = harness([{ steps: [record({ commit: 1 })] }]);
    h.controller.abort();
    expect(await h.take(h.run(), 1)).toEqual([]);
    expect(h.opened).toHaveLength(0);
  });
});

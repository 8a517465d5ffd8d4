import { describe, expect, it } from '@jest/globals';
import {
  ANY,
  BACKWARDS,
  END,
  EVENT_TYPE,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_NAME,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AppendResult,
  type EventData,
  type ReadAllOptions,
  type ReadStreamOptions,
  type SubscribeToAllOptions,
} from '@eventstore/db-client';
import {
  ConcurrencyError,
  EventStoreUnavailableError,
  type RecordedEvent,
} from '../../src/event-store/event-store.port.js';
import { EsdbEventStore, type EsdbClient } from '../../src/event-store/esdb/esdb-event-store.js';
import { encodePosition } from '../../src/event-store/position.js';
import { FakeSubscription, fakeRead, record, type SubscriptionStep } from './esdb-fakes.js';

/** Records every call and answers from scripts, standing in for EventStoreDBClient. */
class FakeClient {
  appends: Array<{ streamName: string; events: EventData[]; expectedRevision: unknown }> = [];
  streamReads: Array<{ streamName: string; options: ReadStreamOptions }> = [];
  allReads: ReadAllOptions[] = [];
  subscriptions: SubscribeToAllOptions[] = [];
  disposed = false;
  appendAnswer: () => Promise<AppendResult> = async () => ({
    success: true,
    nextExpectedRevision: 1n,
    position: { commit: 500n, prepare: 480n },
  });
  streamAnswer: (options: ReadStreamOptions) => ReturnType<typeof fakeRead> = () => fakeRead([]);
  allAnswer: (options: ReadAllOptions) => ReturnType<typeof fakeRead> = () => fakeRead([]);
  subscriptionScripts: SubscriptionStep[][] = [];

  async appendToStream(
    streamName: string,
    events: EventData | EventData[],
    options: { expectedRevision?: unknown } = {},
  ): Promise<AppendResult> {
    this.appends.push({ streamName, events: [events].flat(), expectedRevision: options.expectedRevision });
    return this.appendAnswer();
  }

  readStream(streamName: string, options: ReadStreamOptions = {}) {
    this.streamReads.push({ streamName, options });
    return this.streamAnswer(options);
  }

  readAll(options: ReadAllOptions = {}) {
    this.allReads.push(options);
    return this.allAnswer(options);
  }

  subscribeToAll(options: SubscribeToAllOptions = {}) {
    this.subscriptions.push(options);
    return new FakeSubscription(this.subscriptionScripts[this.subscriptions.length - 1] ?? []);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

const open = (client = new FakeClient()) => ({
  client,
  store: new EsdbEventStore(client as unknown as EsdbClient, {
    sleep: async () => undefined,
    random: () => 0,
  }),
});

const collect = async (events: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> => {
  const all: RecordedEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
};

describe('EsdbEventStore: appending', () => {
  it('writes JSON events with the mapped expectation and returns the revision and position', async () => {
    const { client, store } = open();
    const result = await store.appendToStream(
      'tenant-1',
      [
        { type: 'A', data: { n: 1 } },
        { type: 'B', data: {} },
      ],
      'no_stream',
    );
    expect(client.appends).toHaveLength(1);
    expect(client.appends[0]?.expectedRevision).toBe(NO_STREAM);
    expect(client.appends[0]?.events.map((event) => [event.type, event.contentType])).toEqual([
      ['A', 'application/json'],
      ['B', 'application/json'],
    ]);
    expect(result).toEqual({ nextExpectedRevision: 1, position: encodePosition(500n, 480n) });
  });

  it('passes an exact revision as a bigint and any as ANY', async () => {
    const { client, store } = open();
    await store.appendToStream('s', [{ type: 'A', data: {} }], 4);
    await store.appendToStream('s', [{ type: 'A', data: {} }], 'any');
    expect(client.appends.map((append) => append.expectedRevision)).toEqual([4n, ANY]);
  });

  it('turns a wrong expected version into the port ConcurrencyError', async () => {
    const { client, store } = open();
    client.appendAnswer = async () => {
      throw new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 2n });
    };
    const error = await store.appendToStream('s', [{ type: 'A', data: {} }], 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ streamName: 's', expected: 0, actual: 2 });
    expect(store.connectionState()).toBe('connected');
  });

  it('reports a conflict the client answered without throwing, asking the stream for its revision', async () => {
    const { client, store } = open();
    client.appendAnswer = async () => ({ success: false, nextExpectedRevision: 1n, position: undefined });
    client.streamAnswer = () => fakeRead([record({ commit: 9, revision: 6 })]);
    const error = await store.appendToStream('s', [{ type: 'A', data: {} }], 3).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ConcurrencyError', actual: 6 });
  });

  it('finds the position from the stream when an older server leaves it out of the answer', async () => {
    const { client, store } = open();
    client.appendAnswer = async () => ({ success: true, nextExpectedRevision: 3n });
    client.streamAnswer = () => fakeRead([record({ commit: 70, prepare: 60, revision: 3 })]);
    const result = await store.appendToStream('s', [{ type: 'A', data: {} }], 'any');
    expect(result.position).toBe(encodePosition(70n, 60n));
    expect(client.streamReads[0]?.options).toMatchObject({
      direction: FORWARDS,
      fromRevision: 3n,
      maxCount: 1,
    });
  });

  it('checks the append before calling the server', async () => {
    const { client, store } = open();
    await expect(store.appendToStream('s', [], 'any')).rejects.toThrow(TypeError);
    await expect(store.appendToStream('s', [{ type: 'A', data: {} }], -1)).rejects.toThrow(TypeError);
    expect(client.appends).toHaveLength(0);
  });

  it('an unreachable server is the port EventStoreUnavailableError, and the state disconnected', async () => {
    const { client, store } = open();
    const unavailable = new UnavailableError(undefined, 'no server');
    client.appendAnswer = async () => {
      throw unavailable;
    };
    const error = await store.appendToStream('s', [{ type: 'A', data: {} }], 'any').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventStoreUnavailableError);
    expect(error).toMatchObject({ cause: unavailable });
    expect(store.connectionState()).toBe('disconnected');
  });
});

describe('EsdbEventStore: reading a stream', () => {
  it('reads forwards from the start by default, mapping each event', async () => {
    const { client, store } = open();
    client.streamAnswer = () =>
      fakeRead([record({ commit: 1, revision: 0 }), record({ commit: 2, revision: 1 })]);
    const events = await collect(store.readStream('tenant-1'));
    expect(events.map((event) => event.revision)).toEqual([0, 1]);
    expect(client.streamReads[0]).toEqual({
      streamName: 'tenant-1',
      options: { direction: FORWARDS, fromRevision: START },
    });
  });

  it('reads backwards from the end, or from a revision, up to a count', async () => {
    const { client, store } = open();
    await collect(store.readStream('s', { direction: 'backwards' }));
    await collect(store.readStream('s', { direction: 'backwards', fromRevision: 5, maxCount: 2 }));
    await collect(store.readStream('s', { fromRevision: 1200, maxCount: 3 }));
    expect(client.streamReads.map((read) => read.options)).toEqual([
      { direction: BACKWARDS, fromRevision: END },
      { direction: BACKWARDS, fromRevision: 5n, maxCount: 2 },
      { direction: FORWARDS, fromRevision: 1200n, maxCount: 3 },
    ]);
  });

  it('an unknown stream yields nothing and has no revision', async () => {
    const { client, store } = open();
    client.streamAnswer = () => fakeRead([], new StreamNotFoundError(undefined, 's'));
    expect(await collect(store.readStream('s'))).toEqual([]);
    expect(await store.streamRevision('s')).toBeUndefined();
  });

  it('other read failures reach the caller', async () => {
    const { client, store } = open();
    client.streamAnswer = () => fakeRead([], new UnavailableError(undefined, 'gone'));
    await expect(collect(store.readStream('s'))).rejects.toThrow('gone');
    await expect(store.streamRevision('s')).rejects.toThrow('gone');
  });

  it('the stream revision is the last event read backwards', async () => {
    const { client, store } = open();
    client.streamAnswer = () => fakeRead([record({ commit: 9, revision: 2499 })]);
    expect(await store.streamRevision('s')).toBe(2499);
    expect(client.streamReads[0]?.options).toEqual({ direction: BACKWARDS, fromRevision: END, maxCount: 1 });
  });

  it('cancels the server read when the consumer stops early', async () => {
    const { client, store } = open();
    const read = fakeRead([1, 2, 3].map((commit) => record({ commit })));
    client.streamAnswer = () => read;
    for await (const _event of store.readStream('s')) break;
    expect(read.cancelled).toBe(true);
  });
});

describe('EsdbEventStore: reading the log', () => {
  it('reads $all forwards from the position the page starts after', async () => {
    const { client, store } = open();
    const after = encodePosition(100n, 90n);
    client.allAnswer = () => fakeRead([record({ commit: 100, prepare: 90 }), record({ commit: 110 })]);
    const page = await store.readAll({ after, maxCount: 5 });
    expect(client.allReads[0]).toEqual({
      direction: FORWARDS,
      fromPosition: { commit: 100n, prepare: 90n },
      maxCount: 4096,
    });
    expect(page.events.map((event) => event.position)).toEqual([encodePosition(110n, 110n)]);
    expect(page.isEnd).toBe(true);
  });

  it('reads from the start without a position', async () => {
    const { client, store } = open();
    await store.readAll({ maxCount: 5 });
    expect(client.allReads[0]?.fromPosition).toBe(START);
  });

  it('counts a filtered stretch of the log page by page, up to the limit', async () => {
    const { client, store } = open();
    const log = Array.from({ length: 2_500 }, (_, i) =>
      record({ commit: i + 1, type: i % 2 === 0 ? 'Even' : 'Odd' }),
    );
    client.allAnswer = (options) => {
      const from =
        options.fromPosition === START || options.fromPosition === undefined
          ? 0n
          : (options.fromPosition as { commit: bigint }).commit;
      const after = log.filter((each) => (each.event?.position.commit ?? 0n) >= from);
      return fakeRead(after.slice(0, Number(options.maxCount ?? after.length)));
    };
    const even = { eventTypes: ['Even'] };
    expect(await store.countEvents({ filter: even, limit: 10_000 })).toBe(1_250);
    expect(client.allReads.length).toBeGreaterThan(1);
    expect(await store.countEvents({ filter: even, limit: 700 })).toBe(700);
    expect(await store.countEvents({ after: encodePosition(2_000n, 2_000n), limit: 10_000 })).toBe(500);
    expect(await store.countEvents({ after: encodePosition(2_500n, 2_500n), filter: even, limit: 10 })).toBe(
      0,
    );
  });

  it('the head is the newest event that is not the server’s own', async () => {
    const { client, store } = open();
    client.allAnswer = () =>
      fakeRead([
        record({ commit: 30, type: '$statsCollected' }),
        record({ commit: 20 }),
        record({ commit: 10 }),
      ]);
    expect(await store.headPosition()).toBe(encodePosition(20n, 20n));
    expect(client.allReads[0]).toEqual({ direction: BACKWARDS, fromPosition: END });
  });

  it('an empty log has no head', async () => {
    const { store } = open();
    expect(await store.headPosition()).toBeUndefined();
  });
});

describe('EsdbEventStore: subscribing', () => {
  const take = async (events: AsyncIterable<RecordedEvent>, count: number): Promise<RecordedEvent[]> => {
    const taken: RecordedEvent[] = [];
    for await (const event of events) {
      taken.push(event);
      if (taken.length === count) break;
    }
    return taken;
  };

  it('subscribes from the start with system events filtered out on the server', async () => {
    const { client, store } = open();
    client.subscriptionScripts = [[record({ commit: 1 })]];
    await take(store.subscribe({ from: 'start' }), 1);
    expect(client.subscriptions[0]?.fromPosition).toBe(START);
    expect(client.subscriptions[0]?.filter).toMatchObject({ filterOn: EVENT_TYPE, regex: '^[^$].*' });
  });

  it("turns 'end' into the position of the newest record, so a resubscription cannot skip ahead", async () => {
    const { client, store } = open();
    client.allAnswer = () => fakeRead([record({ commit: 77, prepare: 70, type: '$statsCollected' })]);
    client.subscriptionScripts = [
      [record({ commit: 77, prepare: 70, type: '$statsCollected' }), record({ commit: 80 })],
    ];
    const events = await take(store.subscribe({ from: 'end' }), 1);
    expect(client.allReads[0]).toEqual({ direction: BACKWARDS, fromPosition: END, maxCount: 1 });
    expect(client.subscriptions[0]?.fromPosition).toEqual({ commit: 77n, prepare: 70n });
    expect(events.map((event) => event.position)).toEqual([encodePosition(80n, 80n)]);
  });

  it('filters stream prefixes on the server and event types on the client', async () => {
    const { client, store } = open();
    client.subscriptionScripts = [
      [
        record({ commit: 1, streamId: 'tenant-1', type: 'Kept' }),
        record({ commit: 2, streamId: 'tenant-1', type: 'Dropped' }),
        record({ commit: 3, streamId: 'tenant-1', type: 'Kept' }),
      ],
    ];
    const events = await take(
      store.subscribe({ from: 'start', filter: { streamPrefixes: ['tenant-'], eventTypes: ['Kept'] } }),
      2,
    );
    expect(client.subscriptions[0]?.filter).toMatchObject({ filterOn: STREAM_NAME, prefixes: ['tenant-'] });
    expect(events.map((event) => Number(event.data.commit))).toEqual([1, 3]);
  });

  it('resubscribes after a drop from the last delivered position, reporting reconnecting meanwhile', async () => {
    const client = new FakeClient();
    const states: string[] = [];
    const store: EsdbEventStore = new EsdbEventStore(client as unknown as EsdbClient, {
      random: () => 0,
      sleep: async () => {
        states.push(store.connectionState());
      },
    });
    client.subscriptionScripts = [[record({ commit: 5 }), new UnavailableError()], [record({ commit: 6 })]];
    const events = await take(store.subscribe({ from: encodePosition(4n, 4n) }), 2);
    expect(events.map((event) => Number(event.data.commit))).toEqual([5, 6]);
    expect(client.subscriptions.map((options) => options.fromPosition)).toEqual([
      { commit: 4n, prepare: 4n },
      { commit: 5n, prepare: 5n },
    ]);
    expect(states).toEqual(['reconnecting']);
    expect(store.connectionState()).toBe('connected');
  });

  it('refuses a start position that is not one', async () => {
    const { store } = open();
    await expect(take(store.subscribe({ from: 'nonsense' as never }), 1)).rejects.toThrow(
      'Not a log position',
    );
  });
});

describe('EsdbEventStore: health and closing', () => {
  it('checking the connection reads one record and reports the outcome', async () => {
    const { client, store } = open();
    expect(await store.checkConnection()).toBe('connected');
    client.allAnswer = () =>
      fakeRead([] as AllStreamResolvedEvent[], new UnavailableError(undefined, 'down'));
    expect(await store.checkConnection()).toBe('disconnected');
  });

  it('close disposes the client and reports disconnected', async () => {
    const { client, store } = open();
    await store.checkConnection();
    await store.close();
    expect(client.disposed).toBe(true);
    expect(store.connectionState()).toBe('disconnected');
  });
});

import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import {
  HEARTBEAT_FRAME,
  pumpServerSentEvents,
  serverSentEventFrame,
  type ServerSentEventSink,
} from '../../src/http/events/server-sent-events.pump.js';

/** A response whose buffer is "full" from the given write on, until drain() is called. */
class FakeSink extends EventEmitter implements ServerSentEventSink {
  readonly chunks: string[] = [];
  writableNeedDrain = false;
  constructor(public fullAfterWrites = Number.POSITIVE_INFINITY) {
    super();
  }
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    if (this.chunks.length >= this.fullAfterWrites) this.writableNeedDrain = true;
    return !this.writableNeedDrain;
  }
  drain(): void {
    this.writableNeedDrain = false;
    this.emit('drain');
  }
}

/** An endless source that counts how often it was pulled. */
function countingSource() {
  const source = {
    pulled: 0,
    returned: false,
    [Symbol.asyncIterator]() {
      return {
        next: async () => ({ done: false as const, value: ++source.pulled }),
        return: async () => {
          source.returned = true;
          return { done: true as const, value: undefined };
        },
      };
    },
  };
  return source;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('pumpServerSentEvents', () => {
  it('stops pulling from the source while the response buffer is full, and resumes on drain', async () => {
    const source = countingSource();
    const sink = new FakeSink(3);
    const abort = new AbortController();
    const done = pumpServerSentEvents({
      source,
      sink,
      frame: (n) => `${n}\n`,
      heartbeatMs: 60_000,
      signal: abort.signal,
    });
    await tick();
    expect(source.pulled).toBe(3);
    await tick();
    expect(source.pulled).toBe(3);

    sink.fullAfterWrites = 6;
    sink.drain();
    await tick();
    expect(source.pulled).toBe(6);

    abort.abort();
    await done;
    expect(source.returned).toBe(true);
  });

  it('sends a heartbeat comment only while the source has nothing', async () => {
    const sink = new FakeSink();
    const abort = new AbortController();
    let release: (() => void) | undefined;
    const source = (async function* () {
      yield 'first';
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      yield 'second';
    })();
    const done = pumpServerSentEvents({
      source,
      sink,
      frame: (item) => serverSentEventFrame(item, 'Test', item),
      heartbeatMs: 15,
      signal: abort.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    release?.();
    await done;
    expect(sink.chunks[0]).toBe('id: first\nevent: Test\ndata: "first"\n\n');
    expect(sink.chunks.at(-1)).toBe('id: second\nevent: Test\ndata: "second"\n\n');
    const heartbeats = sink.chunks.slice(1, -1);
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
    expect(new Set(heartbeats)).toEqual(new Set([HEARTBEAT_FRAME]));
  });

  it('returns as soon as the client goes away, even while waiting for drain', async () => {
    const source = countingSource();
    const sink = new FakeSink(1);
    const abort = new AbortController();
    const done = pumpServerSentEvents({
      source,
      sink,
      frame: String,
      heartbeatMs: 60_000,
      signal: abort.signal,
    });
    await tick();
    abort.abort();
    await done;
    expect(source.pulled).toBe(1);
    expect(sink.listenerCount('drain')).toBe(0);
  });
});

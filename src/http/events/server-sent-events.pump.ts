/** The part of a writable HTTP response the pump needs (express's Response has it all). */
export interface ServerSentEventSink {
  write(chunk: string): boolean;
  readonly writableNeedDrain: boolean;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
}

export interface PumpOptions<Item> {
  readonly source: AsyncIterable<Item>;
  readonly sink: ServerSentEventSink;
  readonly frame: (item: Item) => string;
  readonly heartbeatMs: number;
  /**
   * How long the client may read nothing while its buffer is full before the pump gives up on it
   * (the stream then ends as 'stalled'); absent: wait for as long as it takes.
   */
  readonly stallTimeoutMs?: number;
  /** Aborted when the client goes away or the service shuts down. */
  readonly signal: AbortSignal;
}

/** Why the pump returned. */
export type PumpEnd = 'source-ended' | 'stopped' | 'stalled';

export const HEARTBEAT_FRAME = ': keep-alive\n\n';

const STOPPED = Symbol('stopped');
const TIMED_OUT = Symbol('timed out');

/**
 * Copies items from a pull-based source to the response, one at a time: the next item is asked for
 * only once the previous frame went out without filling the response's buffer, or after 'drain'. A
 * client that stops reading therefore stops the source too, instead of making the service buffer
 * the log in memory. Returns when the source ends, the signal is aborted, or the client has read
 * nothing for stallTimeoutMs.
 *
 * Every wait races its own, short-lived interruption (the abort signal's listener is removed after
 * each wait): racing one promise that lives as long as the stream would keep every item ever sent
 * reachable from it, a few megabytes per paused client.
 */
export async function pumpServerSentEvents<Item>(options: PumpOptions<Item>): Promise<PumpEnd> {
  const { sink, signal } = options;
  const iterator = options.source[Symbol.asyncIterator]();
  try {
    while (!signal.aborted) {
      const next = iterator.next();
      let result: IteratorResult<Item> | typeof STOPPED | typeof TIMED_OUT;
      while ((result = await interruptible(next, signal, options.heartbeatMs)) === TIMED_OUT) {
        if (!sink.writableNeedDrain) sink.write(HEARTBEAT_FRAME);
      }
      if (result === STOPPED) return 'stopped';
      if (result.done === true) return 'source-ended';
      if (!sink.write(options.frame(result.value))) {
        const outcome = await waitForDrain(sink, signal, options.stallTimeoutMs);
        if (outcome === STOPPED) return 'stopped';
        if (outcome === TIMED_OUT) return 'stalled';
      }
    }
    return 'stopped';
  } finally {
    // Not awaited: with a read still in flight, return() would wait for it, and the abort signal
    // (which the source also received) already ends that read.
    iterator.return?.().catch(() => undefined);
  }
}

/** `id`, `event` and `data` lines of one event; JSON never contains a raw line break. */
export function serverSentEventFrame(id: string, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The work's result, or STOPPED when the signal aborts first, or TIMED_OUT after `timeoutMs`. */
async function interruptible<T>(
  work: Promise<T>,
  signal: AbortSignal,
  timeoutMs: number | undefined,
): Promise<T | typeof STOPPED | typeof TIMED_OUT> {
  if (signal.aborted) return STOPPED;
  let onAbort: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const interruption = new Promise<typeof STOPPED | typeof TIMED_OUT>((resolve) => {
    onAbort = () => resolve(STOPPED);
    signal.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  try {
    return await Promise.race([work, interruption]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** The sink's next 'drain', interruptible like any wait; the listener never outlives the wait. */
async function waitForDrain(
  sink: ServerSentEventSink,
  signal: AbortSignal,
  timeoutMs: number | undefined,
): Promise<void | typeof STOPPED | typeof TIMED_OUT> {
  let listener: (() => void) | undefined;
  const drain = new Promise<void>((resolve) => {
    listener = resolve;
    sink.once('drain', resolve);
  });
  try {
    return await interruptible(drain, signal, timeoutMs);
  } finally {
    if (listener) sink.removeListener('drain', listener);
  }
}

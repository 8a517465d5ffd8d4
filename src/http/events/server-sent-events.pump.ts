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
  /** Aborted when the client goes away or the service shuts down. */
  readonly signal: AbortSignal;
}

export const HEARTBEAT_FRAME = ': keep-alive\n\n';

const HEARTBEAT = Symbol('heartbeat');
const STOPPED = Symbol('stopped');

/**
 * Copies items from a pull-based source to the response, one at a time: the next item is asked for
 * only once the previous frame went out without filling the response's buffer, or after 'drain'. A
 * client that stops reading therefore stops the source too, instead of making the service buffer
 * the log in memory. Returns when the source ends or the signal is aborted.
 */
export async function pumpServerSentEvents<Item>(options: PumpOptions<Item>): Promise<void> {
  const { sink, signal } = options;
  const iterator = options.source[Symbol.asyncIterator]();
  const stopped = abortedPromise(signal);
  try {
    while (!signal.aborted) {
      const next = iterator.next();
      let result: IteratorResult<Item> | typeof STOPPED;
      for (;;) {
        const outcome = await raceWithTimer(Promise.race([next, stopped]), options.heartbeatMs);
        if (outcome !== HEARTBEAT) {
          result = outcome;
          break;
        }
        if (!sink.writableNeedDrain) sink.write(HEARTBEAT_FRAME);
      }
      if (result === STOPPED || result.done === true) return;
      if (!sink.write(options.frame(result.value)) && (await drained(sink, stopped)) === STOPPED) return;
    }
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

async function raceWithTimer<T>(work: Promise<T>, ms: number): Promise<T | typeof HEARTBEAT> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<typeof HEARTBEAT>((resolve) => {
    timer = setTimeout(() => resolve(HEARTBEAT), ms);
  });
  try {
    return await Promise.race([work, elapsed]);
  } finally {
    clearTimeout(timer);
  }
}

function drained(
  sink: ServerSentEventSink,
  stopped: Promise<typeof STOPPED>,
): Promise<void | typeof STOPPED> {
  let listener: (() => void) | undefined;
  const drain = new Promise<void>((resolve) => {
    listener = resolve;
    sink.once('drain', resolve);
  });
  return Promise.race([drain, stopped]).finally(() => {
    if (listener) sink.removeListener('drain', listener);
  });
}

function abortedPromise(signal: AbortSignal): Promise<typeof STOPPED> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(STOPPED);
    else signal.addEventListener('abort', () => resolve(STOPPED), { once: true });
  });
}

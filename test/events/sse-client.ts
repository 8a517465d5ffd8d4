import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

export interface ServerSentEvent {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

/** A minimal EventSource for tests: raw frames, comments counted, and full control of reading. */
export interface EventStreamClient {
  readonly status: Promise<number>;
  readonly events: ServerSentEvent[];
  readonly comments: string[];
  /** Resolves once `count` events have arrived (or rejects after timeoutMs). */
  waitForEvents(count: number, timeoutMs?: number): Promise<void>;
  /** Stops reading from the socket, as a slow consumer would. */
  pause(): void;
  resume(): void;
  close(): void;
  readonly closed: Promise<void>;
}

export function listeningPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

export function openEventStream(
  server: Server,
  path: string,
  headers: Record<string, string>,
): EventStreamClient {
  const events: ServerSentEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  let response: http.IncomingMessage | undefined;
  let paused = false;
  let resolveStatus: (status: number) => void = () => undefined;
  let resolveClosed: () => void = () => undefined;
  const status = new Promise<number>((resolve) => (resolveStatus = resolve));
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));

  const request = http.get(
    {
      host: '127.0.0.1',
      port: listeningPort(server),
      path,
      headers: { Accept: 'text/event-stream', ...headers },
    },
    (res) => {
      response = res;
      if (paused) res.pause();
      resolveStatus(res.statusCode ?? 0);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          parseFrame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        for (const waiter of waiters) waiter();
      });
      res.on('close', () => resolveClosed());
    },
  );
  request.on('error', () => resolveClosed());

  function parseFrame(frame: string): void {
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) events.push({ id, event, data: data.join('\n') });
  }

  return {
    status,
    events,
    comments,
    closed,
    waitForEvents(count, timeoutMs = 20_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (events.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${events.length} of ${count} events arrived within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    pause() {
      paused = true;
      response?.pause();
    },
    resume() {
      paused = false;
      response?.resume();
    },
    close() {
      request.destroy();
    },
  };
}

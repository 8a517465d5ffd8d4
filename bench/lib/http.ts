import { Pool } from 'undici';
import { summarize, type LatencySummary } from './stats.js';

export interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
  /** Milliseconds from sending the request to having read the whole body. */
  readonly ms: number;
}

export interface RequestSpec {
  readonly method: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A keep-alive HTTP client to the service, authenticated as the operator. */
export class HttpClient {
  private readonly pool: Pool;

  constructor(
    readonly baseUrl: string,
    private readonly operatorKey: string,
    connections = 64,
  ) {
    this.pool = new Pool(baseUrl, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  }

  async send(spec: RequestSpec, pool: Pool = this.pool): Promise<HttpAnswer> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.operatorKey}`,
      ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...spec.headers,
    };
    const started = performance.now();
    const response = await pool.request({
      method: spec.method,
      path: spec.path,
      headers,
      body: spec.body !== undefined ? JSON.stringify(spec.body) : undefined,
    });
    const text = await response.body.text();
    const ms = performance.now() - started;
    let body: unknown = text;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
    }
    return { status: response.statusCode, body, ms };
  }

  /** A pool of its own with exactly `connections` keep-alive connections, for a load run. */
  dedicatedPool(connections: number): Pool {
    return new Pool(this.baseUrl, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export interface LoadOptions {
  /** Concurrent clients, each with its own keep-alive connection, each one request at a time. */
  readonly clients: number;
  readonly durationMs: number;
  /** Unrecorded requests before the measured window (same clients, same connections). */
  readonly warmupMs?: number;
  /**
   * The next request of a client; `sequence` counts all requests of the run, `measured` tells a
   * request of the measured window from a warm-up one.
   */
  next(client: number, sequence: number, measured: boolean): RequestSpec;
  /** Called for every answer inside the measured window, with the wall-clock time it arrived. */
  onAnswer?(spec: RequestSpec, answer: HttpAnswer, arrivedAt: number): void;
  /** Called once, as the measured window starts. */
  onWindowStart?(): void;
}

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly latency: LatencySummary;
  /** Answers by status code, measured window only. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly failures: number;
  /** A few failed answers, for the notes. */
  readonly failureSamples: readonly string[];
}

/**
 * Closed-loop load: N clients, each sending its next request as soon as the previous answer has
 * been read. Latency is per request (send to last body byte); throughput is answers in the window.
 */
export async function runLoad(http: HttpClient, options: LoadOptions): Promise<LoadResult> {
  const pool = http.dedicatedPool(options.clients);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const failureSamples: string[] = [];
  let failures = 0;
  let sequence = 0;
  let measuring = false;
  let windowStart = 0;
  const warmupEnd = performance.now() + (options.warmupMs ?? 0);
  const end = warmupEnd + options.durationMs;

  const client = async (index: number): Promise<void> => {
    for (;;) {
      const now = performance.now();
      if (now >= end) return;
      if (!measuring && now >= warmupEnd) {
        measuring = true;
        windowStart = now;
        options.onWindowStart?.();
      }
      const inWindow = measuring;
      const spec = options.next(index, sequence++, inWindow);
      let answer: HttpAnswer;
      try {
        answer = await http.send(spec, pool);
      } catch (error) {
        if (!inWindow) continue;
        failures += 1;
        if (failureSamples.length < 5) failureSamples.push(`${spec.method} ${spec.path}: ${String(error)}`);
        continue;
      }
      const arrivedAt = performance.now();
      // Only answers to requests sent inside the window count.
      if (inWindow) {
        latencies.push(answer.ms);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        if (answer.status >= 400) {
          failures += 1;
          if (failureSamples.length < 5)
            failureSamples.push(
              `${spec.method} ${spec.path} -> ${answer.status} ${JSON.stringify(answer.body)}`,
            );
        }
        options.onAnswer?.(spec, answer, arrivedAt);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, (_, index) => client(index)));
  } finally {
    await pool.close();
  }
  const seconds = (performance.now() - (windowStart || warmupEnd)) / 1000;
  return {
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    latency: summarize(latencies),
    statuses,
    failures,
    failureSamples,
  };
}

/** `count` requests one after another (one client), each latency recorded. */
export async function runSequential(
  http: HttpClient,
  count: number,
  next: (sequence: number) => RequestSpec,
  onAnswer?: (spec: RequestSpec, answer: HttpAnswer) => void,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let index = 0; index < count; index++) {
    const spec = next(index);
    const answer = await http.send(spec);
    latencies.push(answer.ms);
    onAnswer?.(spec, answer);
  }
  return latencies;
}

/** Latency summaries. Percentiles use the nearest-rank method on the sorted samples. */

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function summarize(samples: readonly number[] | Float64Array): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let total = 0;
  for (const value of sorted) total += value;
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
    mean: sorted.length > 0 ? total / sorted.length : Number.NaN,
  };
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a value other than undefined, or the time is up (then undefined). */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

/** A latency and when its outcome was seen (performance.now()). */
export interface TimedSample {
  readonly seenAt: number;
  readonly ms: number;
}

/**
 * When the slowest `share` of the samples were seen, in seconds after `origin`, grouped into bursts
 * (no more than `gapMs` between one and the next): a few short bursts point at a stall of
 * something shared (a checkpoint, a collection), a spread at the load itself. E.g. "the slowest 1%
 * (12 samples, 41.2 ms and more) were seen in 2 bursts: 3.1-3.4 s (10), 9 s (2)".
 */
export function describeTail(
  samples: readonly TimedSample[],
  origin: number,
  share = 0.01,
  gapMs = 1000,
): string {
  if (samples.length === 0) return 'no samples';
  const count = Math.max(1, Math.ceil(samples.length * share));
  const slowest = [...samples].sort((a, b) => b.ms - a.ms).slice(0, count);
  const threshold = slowest[slowest.length - 1]?.ms ?? 0;
  const inTime = slowest.sort((a, b) => a.seenAt - b.seenAt);
  const bursts: TimedSample[][] = [];
  for (const sample of inTime) {
    const current = bursts[bursts.length - 1];
    const previous = current?.[current.length - 1];
    if (current && previous && sample.seenAt - previous.seenAt <= gapMs) current.push(sample);
    else bursts.push([sample]);
  }
  const seconds = (at: number): number => round((at - origin) / 1000, 1);
  const shown = bursts.slice(0, 6).map((burst) => {
    const from = seconds((burst[0] as TimedSample).seenAt);
    const to = seconds((burst[burst.length - 1] as TimedSample).seenAt);
    return `${from === to ? `${from}` : `${from}-${to}`} s (${burst.length})`;
  });
  if (bursts.length > shown.length) shown.push(`${bursts.length - shown.length} more`);
  return `the slowest ${round(share * 100, 1)}% (${count} sample${count === 1 ? '' : 's'}, ${round(threshold)} ms and more) were seen in ${bursts.length} burst${bursts.length === 1 ? '' : 's'}: ${shown.join(', ')}`;
}

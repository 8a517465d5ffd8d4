import { round } from './stats.js';
import type { BenchContext } from './types.js';

const METRIC = 'tenancy_projection_delay_seconds';
const PROJECTION = 'tenancy-read-model';
/** prom-client's default event-loop monitoring resolution (eventLoopMonitoringPrecision), which the service keeps. */
const LOOP_MONITOR_MS = 10;
/** In the order the steps happen (src/consumers/delivery-delay.ts). */
const PHASES = ['projector_busy', 'until_read', 'read', 'apply', 'commit'] as const;

interface PhaseHistogram {
  sum: number;
  count: number;
  /** Cumulative counts by upper bound, in seconds. */
  buckets: Map<number, number>;
}

export type DeliverySnapshot = Map<string, PhaseHistogram> & {
  batches?: number;
  /** The service's event-loop delay since the previous scrape (prom-client resets it at each). */
  loopDelay?: { meanMs: number; p99Ms: number; maxMs: number };
};

/** The service's per-step histograms of the live tenancy projection, as /metrics shows them now. */
export async function deliverySnapshot(ctx: BenchContext): Promise<DeliverySnapshot> {
  const answer = await ctx.http.send({ method: 'GET', path: '/metrics' });
  const text = typeof answer.body === 'string' ? answer.body : '';
  const phases: DeliverySnapshot = new Map();
  const line = new RegExp(`^${METRIC}_(sum|count|bucket)\\{([^}]*)\\} (\\S+)$`);
  for (const row of text.split('\n')) {
    const batchesRow = /^tenancy_consumer_batches_total\{consumer="([^"]+)"\} (\S+)$/.exec(row);
    if (batchesRow && batchesRow[1] === PROJECTION) phases.batches = Number(batchesRow[2]);
    const loop = /^tenancy_nodejs_eventloop_lag_(mean|p99|max)_seconds (\S+)$/.exec(row);
    if (loop) {
      phases.loopDelay ??= { meanMs: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN };
      // The gauge is the interval between the monitor's ticks, one due every LOOP_MONITOR_MS; the
      // loop was late by what exceeds that (an idle process reports about 10-11 ms, not 0).
      phases.loopDelay[`${loop[1] as 'mean' | 'p99' | 'max'}Ms`] = round(
        Math.max(0, Number(loop[2]) * 1000 - LOOP_MONITOR_MS),
      );
    }
    const match = line.exec(row);
    if (!match) continue;
    const [, kind, labelText, value] = match as unknown as [string, string, string, string];
    const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.projection !== PROJECTION || !labels.phase) continue;
    const entry = phases.get(labels.phase) ?? { sum: 0, count: 0, buckets: new Map() };
    phases.set(labels.phase, entry);
    if (kind === 'sum') entry.sum = Number(value);
    else if (kind === 'count') entry.count = Number(value);
    else
      entry.buckets.set(labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le), Number(value));
  }
  return phases;
}

export interface DeliveryBreakdown {
  /** Mean milliseconds per step, per event applied between the two snapshots. */
  readonly meanMs: Readonly<Record<string, number>>;
  /** The step's 99th percentile, as the upper bound of its histogram bucket. */
  readonly p99Ms: Readonly<Record<string, number>>;
  readonly events: number;
  readonly eventsPerBatch: number;
  /** A line for the scenario's notes. */
  readonly note: string;
}

/** Where the time of the events applied between two snapshots went, step by step. */
export function deliveryBreakdown(before: DeliverySnapshot, after: DeliverySnapshot): DeliveryBreakdown {
  const meanMs: Record<string, number> = {};
  const p99Ms: Record<string, number> = {};
  let events = 0;
  for (const phase of PHASES) {
    const a = after.get(phase);
    const b = before.get(phase);
    const count = (a?.count ?? 0) - (b?.count ?? 0);
    events = Math.max(events, count);
    meanMs[phase] = count > 0 ? round((((a?.sum ?? 0) - (b?.sum ?? 0)) / count) * 1000) : Number.NaN;
    let p99 = Number.NaN;
    if (a && count > 0) {
      for (const [bound, total] of [...a.buckets].sort(([x], [y]) => x - y)) {
        if (total - (b?.buckets.get(bound) ?? 0) >= 0.99 * count) {
          p99 = bound * 1000;
          break;
        }
      }
    }
    p99Ms[phase] = p99;
  }
  const batches = (after.batches ?? 0) - (before.batches ?? 0);
  const eventsPerBatch = batches > 0 ? round(events / batches, 1) : Number.NaN;
  const total = PHASES.reduce((sum, phase) => sum + (meanMs[phase] || 0), 0);
  const note =
    events === 0
      ? 'where the lag goes: the service reported no live batches of the tenancy projection'
      : `where the lag goes (service side, ${events} events in batches of ${eventsPerBatch} on average; mean per event, p99 as a histogram bucket bound): ` +
        PHASES.map((phase) => `${phase.replace('_', ' ')} ${meanMs[phase]} ms (p99 <= ${p99Ms[phase]})`).join(
          ', ',
        ) +
        `; ${round(total)} ms from the append's start to the commit of its row` +
        (after.loopDelay
          ? `; the service's event loop was late by ${after.loopDelay.meanMs} ms on average (p99 ${after.loopDelay.p99Ms} ms, max ${after.loopDelay.maxMs} ms; the intervals its ${LOOP_MONITOR_MS} ms monitor measured, less ${LOOP_MONITOR_MS} ms), and every step waits for it`
          : '');
  return { meanMs, p99Ms, events, eventsPerBatch, note };
}

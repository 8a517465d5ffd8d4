import { ProblemError, problem } from './problem.js';

/** How often buckets that have filled up again are dropped (a full bucket is one never used). */
const SWEEP_INTERVAL_MS = 60_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * TENANCY_RATE_LIMIT_PER_TENANT: a token bucket for each tenant, which all its keys draw on, so
 * that one tenant's clients cannot take this instance's capacity from the others (more keys do not
 * buy more). It holds `burst` requests and fills at `perSecond`. Each instance counts its own: N
 * instances behind a balancer let a tenant make N times as many.
 */
export class TenantRateLimit {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;

  constructor(
    private readonly perSecond: number,
    burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.burst = burst > 0 ? burst : perSecond;
    // Unreferenced: it keeps no process alive, and needs no stopping.
    if (perSecond > 0) setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  /** Takes one request of the tenant's, or throws the 429 that says when to try again. */
  admit(tenantId: string): void {
    if (this.perSecond <= 0) return;
    const now = this.now();
    const bucket = this.buckets.get(tenantId);
    const tokens = bucket === undefined ? this.burst : this.filled(bucket, now);
    if (tokens >= 1) {
      this.buckets.set(tenantId, { tokens: tokens - 1, at: now });
      return;
    }
    this.buckets.set(tenantId, { tokens, at: now });
    const seconds = Math.max(1, Math.ceil((1 - tokens) / this.perSecond));
    throw new ProblemError(
      problem(
        429,
        'RATE_LIMITED',
        'Rate limited',
        `This tenant's keys made more than ${this.perSecond} requests a second (and a burst of ${this.burst}) to this instance; retry after ${seconds} s.`,
      ),
      { 'Retry-After': String(seconds) },
    );
  }

  private filled(bucket: Bucket, now: number): number {
    return Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
  }

  private sweep(): void {
    const now = this.now();
    for (const [tenantId, bucket] of this.buckets) {
      if (this.filled(bucket, now) >= this.burst) this.buckets.delete(tenantId);
    }
  }
}

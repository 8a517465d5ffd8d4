import { ProblemError, problem } from '../problem.js';

/** How long a refused client is asked to wait before it opens a stream again. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Bounds the event streams open at once, in all and per key: each paused stream holds a read
 * batch and socket buffers, so without a bound a few clients could exhaust the instance.
 */
export class StreamAdmission {
  private total = 0;
  private readonly byKey = new Map<string, number>();

  constructor(
    private readonly maxStreams: number,
    private readonly maxStreamsPerKey: number,
  ) {}

  /** Throws the 429 that admit would throw now, and holds nothing: what a HEAD is answered. */
  check(key: string): void {
    const ofKey = this.byKey.get(key) ?? 0;
    if (this.total < this.maxStreams && ofKey < this.maxStreamsPerKey) return;
    const limit =
      this.total >= this.maxStreams
        ? `this instance serves ${this.maxStreams} event streams at most`
        : `one key may hold ${this.maxStreamsPerKey} event streams at once`;
    throw new ProblemError(
      problem(429, 'TOO_MANY_STREAMS', 'Too many streams', `${limit}; close one or retry later.`),
      { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    );
  }

  /** Admits a stream for the key, or throws 429; the returned function releases it (once). */
  admit(key: string): () => void {
    this.check(key);
    const ofKey = this.byKey.get(key) ?? 0;
    this.total++;
    this.byKey.set(key, ofKey + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byKey.get(key) ?? 1) - 1;
      if (left === 0) this.byKey.delete(key);
      else this.byKey.set(key, left);
    };
  }
}

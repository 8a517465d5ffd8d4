/** How often a line about a lasting condition is logged at most. */
const SPARING_LOG_INTERVAL_MS = 5_000;

/**
 * For a condition that every request meets alike while it lasts (a database away, an event of a
 * newer version): whether its line may be logged now, at most once every `intervalMs`. The lines
 * in between are dropped; the requests themselves are counted by the metrics all the same.
 */
export function sparingLog(intervalMs: number = SPARING_LOG_INTERVAL_MS): () => boolean {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const now = Date.now();
    if (now - last < intervalMs) return false;
    last = now;
    return true;
  };
}

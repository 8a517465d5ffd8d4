/**
 * This process's heap, for the scenarios that run the project's code in it (the rebuild above all):
 * what the scenarios before them left behind is collected first, so that it neither slows their
 * collections nor hides what is live. `npm run bench` runs node with --expose-gc for this.
 */

/** Heap in use, in MiB. */
export function heapUsedMb(): number {
  return process.memoryUsage().heapUsed / 1024 ** 2;
}

/** A full collection; false when node was started without --expose-gc (nothing is done then). */
export function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return false;
  gc();
  return true;
}

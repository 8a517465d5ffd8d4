import { setFlagsFromString } from 'node:v8';

/**
 * Bounds how far V8 lets the heap grow beyond what its last full collection kept.
 *
 * Left to itself, V8 sets the next full collection's threshold at up to four times the live heap
 * when collections are cheap. The service's live heap is mostly the tenant states it caches (the
 * largest tenants, a hundred MiB or more), so the resident peak became several times what was live:
 * the benchmark's 249,000-event tenant left 160 MiB live and took the process to 1 GiB. A bound
 * costs more frequent full collections (incremental, a few milliseconds of pause each) and keeps the
 * heap nearer what is live; docs/deploying.md gives what 100 (the default), 50 and 25 measured. V8 reads
 * the flag at each collection, so setting it at start-up works for the process however it was
 * launched (`node dist/src/main.js` in a container, `npm start`); `--heap-growing-percent` is not
 * accepted in NODE_OPTIONS.
 *
 * 0 leaves V8's own heuristics in place.
 */
export function boundHeapGrowth(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0)
    throw new RangeError(`not a heap growth percent: ${percent}`);
  if (percent === 0) return;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

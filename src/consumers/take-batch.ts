const pendingNext = new WeakMap<AsyncIterator<unknown>, Promise<IteratorResult<unknown>>>();

/**
 * Waits for the next item, then also takes whatever the iterator can hand over at once, up to
 * `max`: a consumer catching up gets large batches (many events per transaction), a live one gets
 * each event as soon as it arrives. Returns an empty array when the iterator is done.
 *
 * A `next()` that is still pending when the batch closes is kept and awaited first next time, so
 * no item is ever lost between batches.
 */
export async function takeBatch<T>(iterator: AsyncIterator<T>, max: number): Promise<T[]> {
  const batch: T[] = [];
  let next = (pendingNext.get(iterator) as Promise<IteratorResult<T>> | undefined) ?? iterator.next();
  pendingNext.delete(iterator);
  const first = await next;
  if (first.done) return batch;
  batch.push(first.value);
  while (batch.length < max) {
    next = iterator.next();
    const result = await Promise.race([next, immediately]);
    if (result === NOT_YET) {
      pendingNext.set(iterator, next);
      break;
    }
    const settled = result;
    if (settled.done) break;
    batch.push(settled.value);
  }
  return batch;
}

const NOT_YET = Symbol('not yet');
/** Resolves after the pending promise callbacks of this turn have run, but before any I/O. */
const immediately = {
  then(resolve: (value: typeof NOT_YET) => void) {
    setImmediate(() => resolve(NOT_YET));
  },
} as PromiseLike<typeof NOT_YET>;

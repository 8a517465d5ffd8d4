/**
 * Runs work for the same key one at a time, in arrival order, and work for different keys in
 * parallel. Commands on one tenant take turns inside an instance, so they do not burn their
 * optimistic-concurrency retries on each other; across instances the expected revision still decides.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

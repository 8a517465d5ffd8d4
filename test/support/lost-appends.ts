import { ConcurrencyError, type EventStore } from '../../src/event-store/event-store.port.js';
import type { TestApp } from './test-app.js';

/**
 * Holds each instance's first append until every instance has one ready (at most 2 s), so that
 * they decide on the same revision and the store arbitrates; counts the appends lost to a
 * concurrent one. stop() puts the stores back and answers the count.
 */
export function countLostAppends(apps: readonly TestApp[]): { stop(): number } {
  let lost = 0;
  let arrived = 0;
  let meet: () => void = () => undefined;
  const met = new Promise<void>((resolve) => {
    meet = resolve;
    setTimeout(resolve, 2_000).unref();
  });
  const restore = apps.map((app) => {
    const store: EventStore = app.runtime.eventStore;
    const append = store.appendToStream.bind(store);
    let first = true;
    store.appendToStream = async (...args) => {
      if (first) {
        first = false;
        if (++arrived === apps.length) meet();
        await met;
      }
      try {
        return await append(...args);
      } catch (error) {
        if (error instanceof ConcurrencyError) lost++;
        throw error;
      }
    };
    return () => {
      store.appendToStream = append;
    };
  });
  return {
    stop() {
      for (const undo of restore) undo();
      return lost;
    },
  };
}

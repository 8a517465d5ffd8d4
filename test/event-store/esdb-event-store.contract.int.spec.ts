import { describe, expect, it } from '@jest/globals';
import { createEsdbEventStore } from '../../src/event-store/esdb/esdb-event-store.js';
import { describeEventStoreContract } from './event-store.contract.js';

/**
 * The shared contract against a real EventStoreDB/KurrentDB. No server can be installed where this
 * project is usually built, so it runs only when ESDB_TEST_URL points at one; otherwise a single
 * test says so by name, so a green run never hides that the suite did not run.
 */
const serverUrl = process.env.ESDB_TEST_URL;

if (serverUrl) {
  describeEventStoreContract('EventStoreDB', async () => {
    const store = createEsdbEventStore(serverUrl);
    return {
      store,
      close: () => store.close(),
    };
  });
} else {
  console.warn(
    'EventStoreDB contract suite NOT RUN: set ESDB_TEST_URL (e.g. esdb://localhost:2113?tls=false) to run it against a server.',
  );
  describe('EventStoreDB contract', () => {
    it('EventStoreDB contract: NOT RUN — set ESDB_TEST_URL to run it against a server', () => {
      expect(process.env.ESDB_TEST_URL).toBeUndefined();
    });
  });
}

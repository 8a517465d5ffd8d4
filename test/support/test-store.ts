import { afterAll, beforeAll } from '@jest/globals';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface TestStore {
  readonly database: TestDatabase;
  readonly store: PostgresEventStore;
}

/**
 * A migrated database of its own and a PostgreSQL event store on it, for the describe block this is
 * called in: made before its tests, closed and dropped after them. Read the fields inside tests.
 */
export function useTestStore(): TestStore {
  const current: { database?: TestDatabase; store?: PostgresEventStore } = {};
  beforeAll(async () => {
    current.database = await createTestDatabase();
    current.store = new PostgresEventStore(current.database.pool, current.database.url);
  });
  afterAll(async () => {
    await current.store?.close();
    await current.database?.drop();
  });
  return {
    get database() {
      if (!current.database) throw new Error('the test database is made in beforeAll');
      return current.database;
    },
    get store() {
      if (!current.store) throw new Error('the test store is made in beforeAll');
      return current.store;
    },
  };
}

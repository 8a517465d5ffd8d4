import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { createPool } from '../../src/database/postgres-pool.js';
import { inTransaction, withPooledClient } from '../../src/database/transaction.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** A transaction whose start fails part-way must not hand its connection on in that state. */
describe('a transaction whose start fails', () => {
  let database: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    // One connection: the next caller gets exactly the one the failed transaction used.
    pool = createPool({ connectionString: database.url, max: 1, applicationName: 'transaction-test' });
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  it('is rolled back, and the connection serves the next caller', async () => {
    await expect(
      withPooledClient(pool, (client) =>
        inTransaction(client, async () => 'never', "BEGIN; SET LOCAL statement_timeout = 'not a duration'"),
      ),
    ).rejects.toThrow(/statement_timeout/);
    const next = await withPooledClient(pool, (client) => client.query<{ one: number }>('SELECT 1 AS one'));
    expect(next.rows).toEqual([{ one: 1 }]);
  });
});

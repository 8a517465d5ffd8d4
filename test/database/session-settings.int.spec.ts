import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPool } from '../../src/database/postgres-pool.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe("the service's connections", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it("keep the connection string's options, read timestamps in ISO and find the tables in public, even when those options ask for another DateStyle and search_path", async () => {
    const url = new URL(database.url);
    url.searchParams.set('options', '-c DateStyle=German -c work_mem=7MB -c search_path=app');
    const pool = createPool({ connectionString: url.toString(), max: 1 });
    try {
      const { rows } = await pool.query<{ style: string; mem: string; path: string; at: Date }>(
        `SELECT current_setting('DateStyle') AS style, current_setting('work_mem') AS mem,
                current_setting('search_path') AS path, TIMESTAMPTZ '2026-03-01 10:00:00+00' AS at`,
      );
      expect(rows).toEqual([
        { style: 'ISO, DMY', mem: '7MB', path: 'public', at: new Date('2026-03-01T10:00:00Z') },
      ]);
    } finally {
      await pool.end();
    }
  });
});

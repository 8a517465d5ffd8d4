import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isDatabaseUnavailable } from '../../src/database/database-errors.js';
import pg from 'pg';
import { connectionConfig, createPool, longWorkConnectionConfig } from '../../src/database/postgres-pool.js';
import { withPooledClient } from '../../src/database/transaction.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe("the service's connections", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it("keep the connection string's options, read timestamps in ISO, find the tables in public and run at READ COMMITTED, even when those options ask otherwise", async () => {
    const url = new URL(database.url);
    url.searchParams.set(
      'options',
      '-c DateStyle=German -c work_mem=7MB -c search_path=app -c default_transaction_isolation=serializable',
    );
    const pool = createPool({ connectionString: url.toString(), max: 1 });
    try {
      const { rows } = await pool.query<{
        style: string;
        mem: string;
        path: string;
        isolation: string;
        at: Date;
      }>(
        `SELECT current_setting('DateStyle') AS style, current_setting('work_mem') AS mem,
                current_setting('search_path') AS path, current_setting('transaction_isolation') AS isolation,
                TIMESTAMPTZ '2026-03-01 10:00:00+00' AS at`,
      );
      expect(rows).toEqual([
        {
          style: 'ISO, DMY',
          mem: '7MB',
          path: 'public',
          isolation: 'read committed',
          at: new Date('2026-03-01T10:00:00Z'),
        },
      ]);
    } finally {
      await pool.end();
    }
  });

  it("a session for long work runs even its first statement without the database's statement bound", async () => {
    const name = new URL(database.url).pathname.slice(1);
    await database.pool.query(`ALTER DATABASE "${name}" SET statement_timeout = '5ms'`);
    const firstSetting = async (config: { connectionString: string; options?: string }): Promise<string> => {
      const client = new pg.Client(config);
      await client.connect();
      try {
        const { rows } = await client.query<{ bound: string }>(
          `SELECT current_setting('statement_timeout') AS bound`,
        );
        return rows[0]?.bound ?? '';
      } finally {
        await client.end();
      }
    };
    try {
      expect(await firstSetting(connectionConfig(database.url))).toBe('5ms');
      expect(await firstSetting(longWorkConnectionConfig(database.url))).toBe('0');
    } finally {
      await database.pool.query(`ALTER DATABASE "${name}" RESET statement_timeout`);
    }
  });

  it('survive being cut while checked out between two statements: the next fails as unavailable, and the pool opens a new one', async () => {
    const pool = createPool({ connectionString: database.url, max: 1 });
    try {
      const failure = await withPooledClient(pool, async (client) => {
        await client.query('BEGIN');
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const ended = new Promise((resolve) => client.once('end', resolve));
        await database.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        // Without a listener of its own, the client's error event ended the process here.
        await ended;
        return client.query('SELECT 1').then(
          () => undefined,
          (error: unknown) => error,
        );
      });
      expect(isDatabaseUnavailable(failure)).toBe(true);
      const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });
});

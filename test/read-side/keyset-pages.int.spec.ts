import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { MembershipQueries } from '../../src/application/membership/membership.queries.js';
import { ReadModelQueries } from '../../src/application/queries/read-model.queries.js';
import { ScopedReader } from '../../src/application/queries/scoped-reader.js';
import { createPool } from '../../src/database/postgres-pool.js';
import { PersonalDataVault } from '../../src/personal-data/personal-data.vault.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const WORKSPACES = 3_000;
const MEMBERS = 3_000;
const TENANTS = 1_500;
const PAGE = 100;

/**
 * A page of a list is a walk of the index in the list's order that stops at the page's end, also
 * for a tenant PostgreSQL has no statistics of (grown since the table's last ANALYZE). Measured by
 * the index entries PostgreSQL read for the page: a walk reads about one page's worth, a plan that
 * sorts reads every entry after the cursor.
 */
describe('keyset pages of a tenant grown since the last ANALYZE', () => {
  let database: TestDatabase;
  /** One connection: its statistics are flushed before each reading of the counters. */
  let pool: pg.Pool;
  let queries: ReadModelQueries;
  let membership: MembershipQueries;
  const tenantId = randomUUID();

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createPool({ connectionString: database.url, max: 1, applicationName: 'keyset-pages-test' });
    queries = new ReadModelQueries(new ScopedReader(pool));
    membership = new MembershipQueries(new ScopedReader(pool), new PersonalDataVault(pool));
    const client = await database.pool.connect();
    try {
      await client.query(`BEGIN; SET LOCAL search_path TO read_model;
        ALTER TABLE tenants SET (autovacuum_enabled = false);
        ALTER TABLE workspaces SET (autovacuum_enabled = false);
        ALTER TABLE members SET (autovacuum_enabled = false);
        ALTER TABLE grants SET (autovacuum_enabled = false)`);
      await client.query(
        `INSERT INTO tenants (tenant_id, name, status, workspace_count, revision, created_position, created_at, updated_at)
         SELECT CASE WHEN i = 0 THEN $1::uuid ELSE gen_random_uuid() END, 'T' || i, 'active', 0, 1,
                lpad(to_hex(i), 16, '0') || '-0000000000000000', now(), now()
         FROM generate_series(0, $2::int - 1) AS i`,
        [tenantId, TENANTS],
      );
      const root = randomUUID();
      await client.query(
        `INSERT INTO workspaces (tenant_id, workspace_id, parent_workspace_id, name, is_root, depth, path, status,
           revision, created_position, created_at, updated_at)
         VALUES ($1, $2, NULL, 'Root', true, 0, ARRAY[$2::uuid], 'live', 1, '0000000000000000-0000000000000000', now(), now())`,
        [tenantId, root],
      );
      await client.query(
        `INSERT INTO workspaces (tenant_id, workspace_id, parent_workspace_id, name, is_root, depth, path, status,
           revision, created_position, created_at, updated_at)
         SELECT $1, w.id, $2, 'w' || w.i, false, 1, ARRAY[$2::uuid, w.id], 'live', 1,
                lpad(to_hex(w.i), 16, '0') || '-0000000000000000', now(), now()
         FROM (SELECT i, gen_random_uuid() AS id FROM generate_series(1, $3::int) AS i) w`,
        [tenantId, root, WORKSPACES],
      );
      // Members, each with a grant on the root: a large tenant's lists of both.
      await client.query(
        `INSERT INTO members (tenant_id, user_id, added_position, added_at, updated_at)
         SELECT $1, 'user-' || i, lpad(to_hex(i), 16, '0') || '-0000000000000001', now(), now()
         FROM generate_series(1, $2::int) AS i`,
        [tenantId, MEMBERS],
      );
      await client.query(
        `INSERT INTO grants (tenant_id, grant_id, principal_type, principal_id, role, workspace_id, origin,
           granted_position, granted_at)
         SELECT $1, gen_random_uuid(), 'user', 'user-' || i, 'viewer', $2, 'grant',
                lpad(to_hex(i), 16, '0') || '-0000000000000002', now()
         FROM generate_series(1, $3::int) AS i`,
        [tenantId, root, MEMBERS],
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }, 60_000);
  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  /** Index entries read for the table's scans since the last call (this pool's connection only). */
  const entriesRead = async (table: string): Promise<number> => {
    await pool.query('SELECT pg_stat_force_next_flush()');
    const { rows } = await pool.query<{ read: string }>(
      `SELECT pg_stat_clear_snapshot(), coalesce(sum(idx_tup_read), 0) AS read
       FROM pg_stat_user_indexes WHERE schemaname = 'read_model' AND relname = $1`,
      [table],
    );
    return Number(rows[0]?.read);
  };

  it('has no statistics to go by', async () => {
    const { rows } = await database.pool.query<{ analysed: boolean }>(
      `SELECT bool_or(last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL) AS analysed
       FROM pg_stat_user_tables WHERE schemaname = 'read_model'
         AND relname IN ('tenants', 'workspaces', 'members', 'grants')`,
    );
    expect(rows[0]?.analysed).toBe(false);
  });

  it('walks the workspaces index for a page in the middle of the list', async () => {
    let cursor: string | undefined;
    for (let index = 0; index < 10; index++) {
      cursor = (await queries.workspaces(tenantId, undefined, PAGE, cursor)).nextCursor ?? undefined;
    }
    expect(cursor).toBeDefined();
    const before = await entriesRead('workspaces');
    const page = await queries.workspaces(tenantId, undefined, PAGE, cursor);
    const read = (await entriesRead('workspaces')) - before;
    expect(page.items).toHaveLength(PAGE);
    const first = page.items[0];
    expect(first?.name).toBe(`w${10 * PAGE}`);
    // Path and times as the row holds them (times to the millisecond, as a Date holds them).
    const { rows } = await database.pool.query<{ path: string[]; created: string; updated: string }>(
      `SELECT path::text[] AS path,
              to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created,
              to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated
       FROM read_model.workspaces WHERE tenant_id = $1 AND workspace_id = $2`,
      [tenantId, first?.workspaceId],
    );
    expect(first?.path).toEqual(rows[0]?.path);
    expect(first?.path).toHaveLength(2);
    expect([first?.createdAt, first?.updatedAt]).toEqual([rows[0]?.created, rows[0]?.updated]);
    // About 2,000 entries follow the cursor; the walk reads the page and one more.
    expect(read).toBeGreaterThan(PAGE);
    expect(read).toBeLessThan(3 * PAGE);
  });

  it.each([
    ['members', (cursor?: string) => membership.members(tenantId, PAGE, cursor)],
    ['grants', (cursor?: string) => membership.grants(tenantId, {}, PAGE, cursor)],
  ] as const)('walks the %s index for a page in the middle of the list', async (table, list) => {
    let cursor: string | undefined;
    for (let index = 0; index < 10; index++) cursor = (await list(cursor)).nextCursor ?? undefined;
    const before = await entriesRead(table);
    const page = await list(cursor);
    const read = (await entriesRead(table)) - before;
    expect(page.items).toHaveLength(PAGE);
    expect(read).toBeGreaterThan(PAGE);
    expect(read).toBeLessThan(3 * PAGE);
  });

  it('walks the tenants index for a page in the middle of the list', async () => {
    let cursor: string | undefined;
    for (let index = 0; index < 5; index++) {
      cursor = (await queries.tenants(PAGE, cursor)).nextCursor ?? undefined;
    }
    const before = await entriesRead('tenants');
    const page = await queries.tenants(PAGE, cursor);
    const read = (await entriesRead('tenants')) - before;
    expect(page.items).toHaveLength(PAGE);
    expect(read).toBeGreaterThan(PAGE);
    expect(read).toBeLessThan(3 * PAGE);
  });
});

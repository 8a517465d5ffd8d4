import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ScopedReader } from '../../src/application/queries/scoped-reader.js';
import { createPool } from '../../src/database/postgres-pool.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe('row-level security on the read models', () => {
  let database: TestDatabase;
  const tenants = Array.from({ length: 12 }, () => randomUUID());

  beforeAll(async () => {
    database = await createTestDatabase();
    // Rows of many tenants, written as the projector role would.
    const client = await database.pool.connect();
    try {
      await client.query('BEGIN; SET LOCAL ROLE tenancy_projector; SET LOCAL search_path TO read_model');
      for (const [index, tenantId] of tenants.entries()) {
        const root = randomUUID();
        await client.query(
          `INSERT INTO tenants (tenant_id, name, status, root_workspace_id, workspace_count, revision, created_position, created_at, updated_at)
           VALUES ($1, $2, 'active', $3, 1, 1, $4, now(), now())`,
          [tenantId, `T${index}`, root, `${String(index).padStart(16, '0')}-0000000000000000`],
        );
        await client.query(
          `INSERT INTO workspaces (tenant_id, workspace_id, parent_workspace_id, name, is_root, depth, path, status, revision, created_position, created_at, updated_at)
           VALUES ($1, $2, NULL, 'Root', true, 0, ARRAY[$2::uuid], 'live', 1, '0', now(), now())`,
          [tenantId, root],
        );
        await client.query(
          `INSERT INTO audit_log (position, tenant_id, workspace_id, stream_revision, event_type, occurred_at)
           VALUES ($1, $2, $3, 1, 'WorkspaceCreated', now())`,
          [`${tenantId}-audit`, tenantId, root],
        );
      }
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  });
  afterAll(async () => {
    await database.drop();
  });

  it.each(['tenants', 'workspaces', 'audit_log'])(
    '%s: the API role with tenant A set sees no row of another tenant, even without a WHERE clause',
    async (table) => {
      const reader = new ScopedReader(database.pool);
      const [a] = tenants as [string];
      const rows = await reader.read(
        { kind: 'tenant', tenantId: a },
        async (client) => (await client.query(`SELECT tenant_id FROM ${table}`)).rows,
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((row) => row.tenant_id === a)).toBe(true);
    },
  );

  it('the API role with no tenant set sees nothing at all', async () => {
    const client = await database.pool.connect();
    try {
      await client.query('BEGIN; SET LOCAL ROLE tenancy_api; SET LOCAL search_path TO read_model');
      for (const table of ['tenants', 'workspaces', 'audit_log']) {
        expect((await client.query(`SELECT * FROM ${table}`)).rows).toEqual([]);
      }
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('the API role can neither write the read models nor switch off row-level security', async () => {
    const client = await database.pool.connect();
    try {
      await client.query('BEGIN; SET LOCAL ROLE tenancy_api; SET LOCAL search_path TO read_model');
      await expect(client.query(`DELETE FROM workspaces`)).rejects.toThrow(/permission denied/);
      await client.query('ROLLBACK');
      const { rows } = await client.query<{ rolbypassrls: boolean; rolsuper: boolean }>(
        `SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = 'tenancy_api'`,
      );
      expect(rows[0]).toEqual({ rolbypassrls: false, rolsuper: false });
      const owners = await client.query<{ tableowner: string }>(
        `SELECT tableowner FROM pg_tables WHERE schemaname = 'read_model'`,
      );
      expect(owners.rows.map((row) => row.tableowner)).not.toContain('tenancy_api');
    } finally {
      client.release();
    }
  });

  it('under concurrent requests from many tenants, a pooled connection never carries one tenant into the next', async () => {
    // Two connections for hundreds of reads: every connection serves many tenants in turn.
    const pool = createPool({ connectionString: database.url, max: 2 });
    const reader = new ScopedReader(pool);
    try {
      const reads = Array.from({ length: 400 }, (_, i) => tenants[i % tenants.length] as string);
      const results = await Promise.all(
        reads.map((tenantId) =>
          reader.read({ kind: 'tenant', tenantId }, async (client) => {
            const setting = await client.query<{ tenant: string }>(
              `SELECT current_setting('app.tenant_id', true) AS tenant`,
            );
            const visible = await client.query<{ tenant_id: string }>(
              'SELECT DISTINCT tenant_id FROM workspaces',
            );
            return {
              tenantId,
              setting: setting.rows[0]?.tenant,
              visible: visible.rows.map((row) => row.tenant_id),
            };
          }),
        ),
      );
      for (const result of results) {
        expect(result.setting).toBe(result.tenantId);
        expect(result.visible).toEqual([result.tenantId]);
      }
      // And after the requests, the pooled connections hold no tenant and no role.
      const after = await Promise.all(
        [1, 2].map(() =>
          pool.query<{ tenant: string | null; role: string }>(
            `SELECT current_setting('app.tenant_id', true) AS tenant, current_user AS role`,
          ),
        ),
      );
      for (const result of after) {
        expect(result.rows[0]?.tenant ?? '').toBe('');
        expect(result.rows[0]?.role).not.toBe('tenancy_api');
      }
    } finally {
      await pool.end();
    }
  });

  it('a failed read leaves no tenant behind on its connection', async () => {
    const pool = createPool({ connectionString: database.url, max: 1 });
    const reader = new ScopedReader(pool);
    try {
      await expect(
        reader.read({ kind: 'tenant', tenantId: tenants[0] as string }, async (client) =>
          client.query('SELECT * FROM no_such_table'),
        ),
      ).rejects.toThrow();
      const { rows } = await pool.query<{ tenant: string | null }>(
        `SELECT current_setting('app.tenant_id', true) AS tenant`,
      );
      expect(rows[0]?.tenant ?? '').toBe('');
    } finally {
      await pool.end();
    }
  });
});

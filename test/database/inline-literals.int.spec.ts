import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { inlineStatement, sql } from '../../src/database/sql-statement.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import type { TenancyCommand } from '../../src/tenancy/tenancy.commands.js';
import {
  applyProjection,
  enterReadModelSchema,
  type BatchForm,
} from '../../projections/projection.applier.js';
import { tenancyReadModelProjection } from '../../projections/tenancy-read-model.projection.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { recordCommands } from '../support/tenant-trees.js';

/**
 * Values are written into the SQL the service sends as escaped literals (one round trip for a
 * whole batch). A literal must mean the same on any server: with standard_conforming_strings off
 * (a server, database or role may still set it), a backslash in an ordinary literal escapes the
 * next character, so a name ending in a backslash before a quote closed the literal and what
 * followed ran as SQL.
 */
const HOSTILE = [
  "it\\'s",
  "\\'; SELECT $$injected$$ AS value; --",
  "x\\'); DELETE FROM workspaces; --",
  'back\\slash',
  'trailing\\',
  '\\\\',
  "\\\\''",
  'quote"and\\"',
  '{"x","y\\"}',
  '\\x41\\n\\t',
  "plain 'quoted'",
  'é 中 😀',
];

describe('values inlined into SQL', () => {
  let database: TestDatabase;
  let client: pg.PoolClient;

  beforeAll(async () => {
    database = await createTestDatabase();
    client = await database.pool.connect();
  });
  afterAll(async () => {
    // The session's setting goes with the connection.
    client.release(true);
    await database.drop();
  });

  describe.each(['on', 'off'])('with standard_conforming_strings %s', (setting) => {
    beforeAll(async () => {
      await client.query(`SET standard_conforming_strings = ${setting}`);
    });

    it.each(HOSTILE)('reads back %s as it was given', async (value) => {
      const result = await client.query(inlineStatement(sql`SELECT ${value}::text AS value`));
      expect(result.rows).toEqual([{ value }]);
    });

    it('reads back an array of them as it was given', async () => {
      const result = await client.query(inlineStatement(sql`SELECT ${HOSTILE}::text[] AS value`));
      expect(result.rows).toEqual([{ value: HOSTILE }]);
    });
  });

  describe('in the projections, on a server with standard_conforming_strings off', () => {
    let store: PostgresEventStore;
    let schemas = 0;

    beforeAll(async () => {
      store = new PostgresEventStore(database.pool, database.url);
      await client.query('SET standard_conforming_strings = off');
    });
    afterAll(async () => {
      await store.close();
    });

    it.each<BatchForm>(['per-event', 'set-based'])(
      'stores every workspace name as it was given (%s)',
      async (form) => {
        const tenantId = randomUUID();
        const named = HOSTILE.map((name) => ({ workspaceId: randomUUID(), name }));
        const events = await recordCommands(store, tenantId, [
          { type: 'CreateTenant', tenantId, name: "Tenant\\'s" },
          { type: 'BootstrapRootWorkspace', tenantId },
          ...named.map(({ workspaceId, name }): TenancyCommand => ({
            type: 'CreateWorkspace',
            tenantId,
            workspaceId,
            name,
          })),
        ]);
        const schema = `literals_${++schemas}`;
        await client.query('SELECT rm_create_schema($1)', [schema]);
        await client.query('BEGIN');
        try {
          await enterReadModelSchema(client, schema);
          await applyProjection(client, tenancyReadModelProjection, events, form);
          const tenants = await client.query('SELECT name FROM tenants');
          const workspaces = await client.query<{ workspace_id: string; name: string }>(
            'SELECT workspace_id, name FROM workspaces WHERE depth = 1 ORDER BY created_position',
          );
          expect(tenants.rows).toEqual([{ name: "Tenant\\'s" }]);
          expect(workspaces.rows).toEqual(
            named.map(({ workspaceId, name }) => ({ workspace_id: workspaceId, name })),
          );
        } finally {
          await client.query('ROLLBACK');
        }
      },
    );
  });
});

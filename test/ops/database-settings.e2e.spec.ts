import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import request from 'supertest';
import { quoteIdentifier } from '../../src/database/database-urls.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { AUTH, startTestAppOn, type TestApp } from '../support/test-app.js';

/**
 * The service on a database whose settings are not PostgreSQL's defaults, as an existing server's
 * may be (set for the server, the database or a role):
 *
 * - standard_conforming_strings off. Names are the client's text, and the projections write them
 *   into SQL as literals. A backslash in a name escaped the literal's closing quote: the live
 *   projector's statement failed on every retry, so one tenant's name stopped every tenant's read
 *   models, and a name built for it could run SQL of its own.
 * - DateStyle 'SQL, DMY'. Timestamps came back as `06/12/2026 03:09:09.45 UTC`, which
 *   node-postgres does not parse: every read showing one failed with a 500.
 */
describe('on a database with standard_conforming_strings off and DateStyle SQL, DMY', () => {
  let database: TestDatabase;
  let app: TestApp;
  const http = () => request(app.server);

  beforeAll(async () => {
    database = await createTestDatabase();
    const { rows } = await database.pool.query<{ name: string }>('SELECT current_database() AS name');
    const name = quoteIdentifier(rows[0]?.name ?? '');
    await database.pool.query(`ALTER DATABASE ${name} SET standard_conforming_strings = off`);
    await database.pool.query(`ALTER DATABASE ${name} SET DateStyle = 'SQL, DMY'`);
    app = await startTestAppOn(database);
  });
  afterAll(async () => {
    await app?.close();
    await database.drop();
  });

  it("is such a database, as a connection without the service's settings sees it", async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const conforming = await client.query('SHOW standard_conforming_strings');
      const dateStyle = await client.query('SHOW DateStyle');
      expect([conforming.rows, dateStyle.rows]).toEqual([
        [{ standard_conforming_strings: 'off' }],
        [{ DateStyle: 'SQL, DMY' }],
      ]);
    } finally {
      await client.end();
    }
  });

  it('stores and lists names with backslashes as they were given, and runs nothing they carry', async () => {
    const tenantName = "Tenant\\'s \\ backslashes";
    const tenant = await http().post('/v1/tenants').set(AUTH).send({ name: tenantName });
    expect(tenant.status).toBe(201);
    const { tenantId } = tenant.body as { tenantId: string };
    const names = [
      'trailing\\',
      "it\\'s",
      "x\\'); UPDATE workspaces SET name = $$taken$$; --",
      'C:\\Users\\x',
      '\\\\',
    ];
    let position = '';
    for (const name of names) {
      const created = await http().post(`/v1/tenants/${tenantId}/workspaces`).set(AUTH).send({ name });
      expect(created.status).toBe(201);
      position = (created.body as { position: string }).position;
    }

    const listed = await http()
      .get(`/v1/tenants/${tenantId}/workspaces?limit=100`)
      .set(AUTH)
      .set('Min-Position', position);
    expect(listed.status).toBe(200);
    const items = (listed.body as { items: { name: string; depth: number }[] }).items;
    expect(items.filter((item) => item.depth === 1).map((item) => item.name)).toEqual(names);

    const read = await http().get(`/v1/tenants/${tenantId}`).set(AUTH).set('Min-Position', position);
    expect(read.status).toBe(200);
    expect((read.body as { name: string }).name).toBe(tenantName);
  });

  it('reads timestamps back as the instants they were', async () => {
    const before = Date.now();
    const tenant = await http().post('/v1/tenants').set(AUTH).send({ name: 'Dated' });
    expect(tenant.status).toBe(201);
    const { tenantId, position } = tenant.body as { tenantId: string; position: string };
    const read = await http().get(`/v1/tenants/${tenantId}`).set(AUTH).set('Min-Position', position);
    expect(read.status).toBe(200);
    const createdAt = Date.parse((read.body as { createdAt: string }).createdAt);
    // Read as day/month (or as nothing), it would be months off or not a number.
    expect(Math.abs(createdAt - before)).toBeLessThan(10_000);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { quoteIdentifier } from '../../src/database/database-urls.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { AUTH, startTestAppOn, type TestApp } from '../support/test-app.js';

/**
 * Names are the client's text, and the projections write them into SQL as literals. On a database
 * whose standard_conforming_strings is off (still a setting a server, database or role may have),
 * a backslash in a name escaped the literal's closing quote: the live projector's statement failed
 * on every retry, so one tenant's name stopped every tenant's read models, and a name built for it
 * could run SQL of its own.
 */
describe('names with backslashes, on a database with standard_conforming_strings off', () => {
  let database: TestDatabase;
  let app: TestApp;
  const http = () => request(app.server);

  beforeAll(async () => {
    database = await createTestDatabase();
    const { rows } = await database.pool.query<{ name: string }>('SELECT current_database() AS name');
    await database.pool.query(
      `ALTER DATABASE ${quoteIdentifier(rows[0]?.name ?? '')} SET standard_conforming_strings = off`,
    );
    app = await startTestAppOn(database);
  });
  afterAll(async () => {
    await app?.close();
    await database.drop();
  });

  it('runs the service on such a database', async () => {
    const { rows } = await app.runtime.pool.query<{ standard_conforming_strings: string }>(
      'SHOW standard_conforming_strings',
    );
    expect(rows).toEqual([{ standard_conforming_strings: 'off' }]);
  });

  it('stores and lists them as they were given, and runs nothing they carry', async () => {
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
});

import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PG_MIGRATE_LOCK_ID } from 'node-pg-migrate';
import pg from 'pg';
import request from 'supertest';
import { quoteIdentifier, withDatabase } from '../../src/database/database-urls.js';
import { createTestDatabase, testServerUrl, withAdmin, type TestDatabase } from '../support/test-database.js';
import {
  call,
  PROCESS_OPERATOR_KEY,
  PROJECT_ROOT,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process.js';
import { cliSaid, runTenancyProcess } from '../support/tenancy-process.js';
import { AUTH, startTestAppOn, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

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
 * - row_security off. The reads run as a role that row-level security applies to, which keeps
 *   each tenant to its own rows; with it off PostgreSQL refuses such a read rather than skip the
 *   policies, and every read of the read models failed with a 500.
 */
describe('on a database with standard_conforming_strings off, DateStyle SQL, DMY and row_security off', () => {
  let database: TestDatabase;
  let app: TestApp;
  const http = () => request(app.server);

  beforeAll(async () => {
    database = await createTestDatabase();
    const { rows } = await database.pool.query<{ name: string }>('SELECT current_database() AS name');
    const name = quoteIdentifier(rows[0]?.name ?? '');
    await database.pool.query(`ALTER DATABASE ${name} SET standard_conforming_strings = off`);
    await database.pool.query(`ALTER DATABASE ${name} SET DateStyle = 'SQL, DMY'`);
    await database.pool.query(`ALTER DATABASE ${name} SET row_security = off`);
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
      const rowSecurity = await client.query('SHOW row_security');
      expect([conforming.rows, dateStyle.rows, rowSecurity.rows]).toEqual([
        [{ standard_conforming_strings: 'off' }],
        [{ DateStyle: 'SQL, DMY' }],
        [{ row_security: 'off' }],
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

/**
 * The service stores whatever Unicode text its clients send. On a database in another encoding
 * (LATIN1 here) it started, and a name outside that encoding was a 500 at the append.
 */
describe('on a database whose encoding is not UTF8', () => {
  const run = promisify(execFile);
  const name = `tenancy_latin1_${randomBytes(6).toString('hex')}`;
  const url = withDatabase(testServerUrl(), name);

  const tablesIn = async (): Promise<number> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
      );
      return rows[0]?.count ?? -1;
    } finally {
      await client.end();
    }
  };
  /** The service as a process on that database, run to its end: its exit code and output. */
  const runService = () =>
    run(process.execPath, ['dist/src/main.js'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        DATABASE_URL: url,
        PORT: '0',
        TENANCY_OPERATOR_KEY: PROCESS_OPERATOR_KEY,
      },
      timeout: 30_000,
    }).then(
      ({ stdout, stderr }) => ({ code: 0 as number | string, output: stdout + stderr }),
      (error: { code?: number | string; stdout?: string; stderr?: string }) => ({
        code: error.code ?? 'none',
        output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
      }),
    );

  beforeAll(async () => {
    await withAdmin(testServerUrl(), (client) =>
      client.query(
        `CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'`,
      ),
    );
  });
  afterAll(async () => {
    await withAdmin(testServerUrl(), (client) =>
      client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
    );
  });

  it('the service does not start: it exits 1 saying why, and creates nothing there', async () => {
    const service = await runService();
    expect(service.code).toBe(1);
    expect(service.output).toMatch(/"level":"fatal".*encoding LATIN1.*needs a UTF8 database/);
    expect(await tablesIn()).toBe(0);
  }, 40_000);

  it('nor does the CLI: one line on stderr, exit 1', async () => {
    const cli = await runTenancyProcess(['verify'], url);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^tenancy verify: .*encoding LATIN1.*needs a UTF8 database.*\n$/);
  }, 40_000);
});

/**
 * The service's tables live in the schema `public`, and some of its statements name that schema.
 * A database or role whose search_path puts another schema first (`"$user", public` with a schema
 * named after the role, as some servers are set up, or one set for the database) made the
 * migrations create the tables in that schema instead, where those statements did not find them.
 */
describe('on a database whose search_path puts a schema of its own before public', () => {
  const name = `tenancy_search_path_${randomBytes(6).toString('hex')}`;
  const url = withDatabase(testServerUrl(), name);
  let service: ServiceProcess | undefined;

  const inDatabase = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    await withAdmin(testServerUrl(), (client) => client.query(`CREATE DATABASE ${quoteIdentifier(name)}`));
    await inDatabase(async (client) => {
      await client.query('CREATE SCHEMA app');
      await client.query(`ALTER DATABASE ${quoteIdentifier(name)} SET search_path = app, public`);
    });
  });
  afterAll(async () => {
    await service?.stop();
    await withAdmin(testServerUrl(), (client) =>
      client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
    );
  });

  it('keeps its tables in public, and its writes, process managers, read models and CLI work there', async () => {
    service = await startServiceProcess({ env: { DATABASE_URL: url } });
    const created = await call(service, 'POST', '/v1/tenants', { name: `Search path ${randomUUID()}` });
    expect(created.status).toBe(201);
    const { tenantId, rootWorkspaceId, position } = created.body as {
      tenantId: string;
      rootWorkspaceId: string;
      position: string;
    };
    const listed = async () => {
      const workspaces = await call(service!, 'GET', `/v1/tenants/${tenantId}/workspaces`, undefined, {
        'Min-Position': position,
      });
      expect(workspaces.status).toBe(200);
      return (workspaces.body as { items: { workspaceId: string }[] }).items.map((item) => item.workspaceId);
    };
    // The root workspace is made a moment later by a process manager, which keeps its checkpoint
    // in public.
    await waitFor(async () => (await listed()).length > 0, 10_000);
    expect(await listed()).toEqual([rootWorkspaceId]);
    const health = await call(service, 'GET', '/health/ready');
    expect(health.status).toBe(200);
    await service.stop();
    service = undefined;

    const schemas = await inDatabase(async (client) => {
      const { rows } = await client.query<{ schema: string }>(
        `SELECT DISTINCT schemaname AS schema FROM pg_tables
         WHERE tablename IN ('events', 'event_streams', 'process_checkpoints', 'schema_migrations')`,
      );
      return rows.map((row) => row.schema);
    });
    expect(schemas).toEqual(['public']);
    const verify = await runTenancyProcess(['verify'], url);
    expect({ code: verify.code, stdout: verify.stdout }).toEqual({
      code: 0,
      stdout: expect.stringMatching(
        /^ok +workspaces +live 1 rows, replayed 1 rows[^]*read models match the event log\n$/m,
      ),
    });
  }, 60_000);
});

/**
 * A server, database or role may make every transaction SERIALIZABLE or REPEATABLE READ by
 * default. The service's statements are written for READ COMMITTED: a write that meets another
 * one's row waits for it and then sees it (a conflicting append finds the stream moved on, a
 * second tenant of the same name finds the name taken). At a stricter level PostgreSQL refuses
 * such a write with a serialization failure instead.
 */
describe('on a database whose transactions are SERIALIZABLE by default', () => {
  const on = twoInstancesOnDatabaseWith(`default_transaction_isolation = 'serializable'`);

  it('concurrent writes to one tenant over two instances all succeed, and of same-named tenants one wins', async () => {
    const instance = (i: number) => request(i % 2 === 0 ? on.first.server : on.second.server);
    // A serialization failure needs two writes to meet: five rounds, so that they do.
    for (let round = 0; round < 5; round++) {
      const tenantId = await newTenant(round % 2 === 0 ? on.first : on.second, 'Serializable');
      const created = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          instance(i)
            .post(`/v1/tenants/${tenantId}/workspaces`)
            .set(AUTH)
            .send({ name: `Unit ${i}` }),
        ),
      );
      expect(created.map((response) => response.status)).toEqual(Array.from({ length: 40 }, () => 201));

      const name = `Rivals ${randomUUID()}`;
      const rivals = await Promise.all(
        Array.from({ length: 40 }, (_, i) => instance(i).post('/v1/tenants').set(AUTH).send({ name })),
      );
      const statuses = rivals.map((response) => response.status).sort();
      expect(statuses).toEqual([201, ...Array.from({ length: 39 }, () => 409)]);
    }
  }, 60_000);
});

/**
 * A server, database or role may end sessions that stay idle for a while (idle_session_timeout,
 * which an operator may set to reclaim forgotten connections). The service keeps connections
 * idle in its pool for 30 s, and one that listens for the log's changes for as long as it runs.
 */
describe('on a database that ends idle sessions after 1.5 s', () => {
  const on = twoInstancesOnDatabaseWith(`idle_session_timeout = '1500ms'`);

  /** The sessions listening for the log's changes, by when they started. */
  const listeners = async (): Promise<string[]> => {
    const { rows } = await on.database.pool.query<{ started: string }>(
      `SELECT backend_start::text AS started FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'tenancy-listener' ORDER BY 1`,
    );
    return rows.map((row) => row.started);
  };

  it('writes after idle spells succeed, the read models of another instance have them at once, and the listening sessions last', async () => {
    let listening: string[] = [];
    for (let round = 0; round < 4; round++) {
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      // Written through the instance without consumers: those of the first learn of it from the
      // log's change notification.
      const created = await request(on.second.server)
        .post('/v1/tenants')
        .set(AUTH)
        .send({ name: `Idle ${randomUUID()}` });
      expect(created.status).toBe(201);
      const { tenantId, position } = created.body as { tenantId: string; position: string };
      const started = performance.now();
      const read = await request(on.first.server)
        .get(`/v1/tenants/${tenantId}`)
        .set(AUTH)
        .set('Min-Position', position);
      expect(read.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(1_000);
      // Both instances listen, on the same sessions round after round: the server's idle
      // timeout does not end them (which cost a new session and lost notifications each time).
      if (round === 0) listening = await listeners();
      else expect(await listeners()).toEqual(listening);
    }
    expect(listening).toHaveLength(2);
    for (const app of [on.first, on.second]) {
      const ready = await request(app.server).get('/health/ready');
      expect({ status: ready.status, body: (ready.body as { status: string }).status }).toEqual({
        status: 200,
        body: 'ok',
      });
    }
  }, 60_000);
});

/**
 * A server, database or role may end any transaction that lasts longer than a bound
 * (transaction_timeout, PostgreSQL 17 and later), an operator's guard against forgotten ones. The
 * server ends the whole session with SQLSTATE 25P04. A write that waited behind another session's
 * lock past it was answered 500.
 */
describe('on a database that ends transactions after 300 ms', () => {
  const on = twoInstancesOnDatabaseWith(`transaction_timeout = '300ms'`);

  it('a write held past it behind a lock is answered 503 (retry), and the same write is taken once the lock is gone', async () => {
    const tenantId = await newTenant(on.second, 'Transaction timeout');
    const holder = await on.database.pool.connect();
    try {
      // The tenant's stream row, locked by a session whose own transactions are not bounded.
      await holder.query(`BEGIN; SET LOCAL transaction_timeout = 0`);
      await holder.query('SELECT 1 FROM event_streams WHERE stream_name = $1 FOR UPDATE', [
        `tenant-${tenantId}`,
      ]);
      const held = await request(on.second.server)
        .post(`/v1/tenants/${tenantId}/workspaces`)
        .set(AUTH)
        .send({ name: 'Held' });
      expect({ status: held.status, code: (held.body as { code?: string }).code }).toEqual({
        status: 503,
        code: 'DATABASE_UNAVAILABLE',
      });
      expect(held.headers['retry-after']).toBeDefined();
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    const retried = await request(on.second.server)
      .post(`/v1/tenants/${tenantId}/workspaces`)
      .set(AUTH)
      .send({ name: 'Held' });
    expect(retried.status).toBe(201);
  }, 30_000);

  it("a projector's batch that takes longer reaches the read model (its session lifts the bound)", async () => {
    const tenantId = await newTenant(on.second, 'Slow batch');
    const name = `Slow ${randomUUID()}`;
    // The projector's insert of this one workspace takes 0.6 s.
    await on.database.pool.query(`CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.name = '${name}' THEN PERFORM pg_sleep(0.6); END IF; RETURN NEW; END $$`);
    await on.database.pool.query(
      'CREATE TRIGGER slow_insert BEFORE INSERT ON read_model.workspaces FOR EACH ROW EXECUTE FUNCTION slow_insert()',
    );
    try {
      const created = await request(on.second.server)
        .post(`/v1/tenants/${tenantId}/workspaces`)
        .set(AUTH)
        .send({ name });
      expect(created.status).toBe(201);
      const { workspaceId, position } = created.body as { workspaceId: string; position: string };
      // Before, the server ended the batch's session at 300 ms, every time it was tried again.
      const read = await request(on.first.server)
        .get(`/v1/tenants/${tenantId}/workspaces/${workspaceId}`)
        .set(AUTH)
        .set('Min-Position', position);
      expect({ status: read.status, name: (read.body as { name?: string }).name }).toEqual({
        status: 200,
        name,
      });
    } finally {
      await on.database.pool.query('DROP TRIGGER slow_insert ON read_model.workspaces');
    }
  }, 30_000);

  it("the CLI's verify, whose comparison waits behind a lock past it, completes: exit 0", async () => {
    const holder = await on.database.pool.connect();
    try {
      // verify compares inside one transaction that first locks the live tables for reading: a
      // session holding one of them for 1.5 s keeps that transaction open past the bound.
      await holder.query(`BEGIN; SET LOCAL transaction_timeout = 0`);
      await holder.query('LOCK TABLE read_model.workspaces IN ACCESS EXCLUSIVE MODE');
      const verifying = runTenancyProcess(['verify'], on.database.url);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await holder.query('ROLLBACK');
      const verify = await verifying;
      expect({
        code: verify.code,
        stderr: cliSaid(verify),
      }).toEqual({
        code: 0,
        stderr: [],
      });
      expect(verify.stdout).toMatch(/read models match the event log\n$/);
    } finally {
      holder.release();
    }
  }, 30_000);
});

/**
 * A server, database or role may bound every statement (statement_timeout), as operators do to
 * stop runaway queries. The service's pooled connections set their own bound (30 s); the
 * consumers' connections took the database's. A batch that took longer was cancelled, and tried
 * again for ever: the read models never reached the writes.
 */
describe('on a database that bounds statements at 5 ms', () => {
  const on = twoInstancesOnDatabaseWith(`statement_timeout = '5ms'`);

  it('the read models and the process managers keep up with the writes', async () => {
    const tenantId = await newTenant(on.second, 'Statement timeout');
    let position = '';
    for (let i = 0; i < 20; i++) {
      const created = await request(on.second.server)
        .post(`/v1/tenants/${tenantId}/workspaces`)
        .set(AUTH)
        .send({ name: `Unit ${i}` });
      expect(created.status).toBe(201);
      position = (created.body as { position: string }).position;
    }
    const listed = await request(on.first.server)
      .get(`/v1/tenants/${tenantId}/workspaces?limit=100`)
      .set(AUTH)
      .set('Min-Position', position);
    expect(listed.status).toBe(200);
    // The root workspace (made by a process manager) and the twenty under it.
    expect((listed.body as { items: unknown[] }).items).toHaveLength(21);
    const ready = await request(on.first.server).get('/health/ready');
    expect(ready.status).toBe(200);
  }, 30_000);

  it("a CLI run that waits for another instance's migration waits as long as it takes, then runs: exit 0", async () => {
    const holder = await on.database.pool.connect();
    try {
      // The lock an instance holds while it migrates (node-pg-migrate's), for 1 s.
      await holder.query(`SELECT pg_advisory_lock(${PG_MIGRATE_LOCK_ID})`);
      const replaying = runTenancyProcess(['replay'], on.database.url);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await holder.query(`SELECT pg_advisory_unlock(${PG_MIGRATE_LOCK_ID})`);
      const replay = await replaying;
      // Before: the wait was cancelled by the database's bound, and the run failed.
      expect({
        code: replay.code,
        said: cliSaid(replay),
      }).toEqual({
        code: 0,
        said: [],
      });
      expect(replay.stdout).toMatch(/^tenancy-read-model: \d+ events replayed, swapped in$/m);
    } finally {
      holder.release();
    }
  }, 30_000);
});

/** A new tenant (named after `label`, made unique) created through `app`: its id. */
async function newTenant(app: TestApp, label: string): Promise<string> {
  const tenant = await request(app.server)
    .post('/v1/tenants')
    .set(AUTH)
    .send({ name: `${label} ${randomUUID()}` });
  expect(tenant.status).toBe(201);
  return (tenant.body as { tenantId: string }).tenantId;
}

/**
 * A fresh database with one setting changed for it (`name = value`), as an operator would set it,
 * and two service instances on it; the first runs the consumers.
 */
function twoInstancesOnDatabaseWith(setting: string): {
  readonly database: TestDatabase;
  readonly first: TestApp;
  readonly second: TestApp;
} {
  const on = {} as { database: TestDatabase; first: TestApp; second: TestApp };
  beforeAll(async () => {
    on.database = await createTestDatabase();
    const { rows } = await on.database.pool.query<{ name: string }>('SELECT current_database() AS name');
    await on.database.pool.query(`ALTER DATABASE ${quoteIdentifier(rows[0]?.name ?? '')} SET ${setting}`);
    on.first = await startTestAppOn(on.database);
    on.second = await startTestAppOn(on.database, { runConsumers: false });
  });
  afterAll(async () => {
    await on.second?.close();
    await on.first?.close();
    await on.database?.drop();
  });
  return on;
}

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { accessFixture } from '../access/access-fixture.js';
import { loadEventSchemaValidator } from '../events/event-schema.validator.js';
import { openEventStream } from '../events/sse-client.js';
import { runTenancyProcess, type CliRun as Run } from '../support/tenancy-process.js';
import { AUTH, startTestApp, startTestAppOn, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

/** A name that occurs nowhere else: a grep for it cannot hit anything by chance. */
const NAME = 'Quillonette Vashti-Ebberlane';
const OTHER_NAME = 'Marisol Tern-Abernathy';
const B_NAME = 'Bettany Orrin-Saltmarsh';
const USER = 'q.vashti@example.com';
const OTHER_USER = 'm.tern@example.com';
const PASSPHRASE = 'a passphrase for carrying personal-data keys';

/** `tenancy` as an operator runs it: a process, its exit code checked by each caller. */
const tenancy = (databaseUrl: string, args: string[]): Promise<Run> => runTenancyProcess(args, databaseUrl);

/**
 * Crypto-shredding a member's display name (issue 16): the key is deleted and PersonalDataErased
 * appended; every read path shows the name as erased while the log keeps every stored byte.
 */
describe('erasing a member’s personal data', () => {
  let app: TestApp;
  const kit = accessFixture(() => app);
  const http = () => request(app.server);
  let directory: string;
  let tenantA: string;
  let tenantB: string;
  let groupId: string;
  /** A position at which the person had their name. */
  let namedAt: string;
  let adminOfA: Record<string, string>;
  let readerOfA: Record<string, string>;
  let adminOfB: Record<string, string>;
  const A = () => `/v1/tenants/${tenantA}`;

  const cli = (args: string[], databaseUrl = app.database.url) => tenancy(databaseUrl, args);

  /** Every row of the event table, byte for byte as PostgreSQL returns it. */
  const rawEvents = async (): Promise<{ type: string; row: string }[]> => {
    const { rows } = await app.database.pool.query<{ type: string; row: string }>(
      'SELECT event_type AS type, e::text AS row FROM events e ORDER BY global_position',
    );
    return rows;
  };

  /** Every row of every live read-model table, as text, sorted (checkpoints aside). */
  const readModels = async (pool = app.database.pool): Promise<Record<string, string[]>> => {
    const { rows: tables } = await pool.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
       WHERE table_schema = 'read_model' AND table_type = 'BASE TABLE'
         AND table_name NOT IN ('checkpoints', 'projection_failures') ORDER BY 1`,
    );
    const dump: Record<string, string[]> = {};
    for (const { name } of tables) {
      const { rows } = await pool.query<{ row: string }>(`SELECT t::text AS row FROM read_model.${name} t`);
      dump[name] = rows.map((row) => row.row).sort();
    }
    return dump;
  };

  const ok = async (run: Promise<Run>): Promise<string> => {
    const result = await run;
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    return result.stdout;
  };

  const json = async (path: string, auth: Record<string, string> = AUTH): Promise<string> => {
    const response = await http().get(path).set(auth);
    expect({ path, status: response.status }).toEqual({ path, status: 200 });
    return response.text;
  };

  const eventsOfA = async (): Promise<number> => {
    const { rows } = await app.database.pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM events WHERE stream_name = $1',
      [`tenant-${tenantA}`],
    );
    return rows[0]!.count;
  };

  /** Tenant A's events as Server-Sent Events from the start, until every one has arrived. */
  const sseOfA = async (): Promise<string> => {
    const expected = await eventsOfA();
    const stream = openEventStream(app.server, `/v1/events/stream?tenantId=${tenantA}&from=start`, AUTH);
    try {
      expect(await stream.status).toBe(200);
      await stream.waitForEvents(expected, 20_000);
      return stream.events.map((event) => event.data).join('\n');
    } finally {
      stream.close();
    }
  };

  /** Everything a client, an operator or a consumer can get to see about tenant A. */
  const everything = async (): Promise<Record<string, string>> => ({
    'GET members': await json(`${A()}/members?limit=100`),
    'GET member': await json(`${A()}/members/${USER}`),
    'GET member as tenant admin': await json(`${A()}/members/${USER}`, adminOfA),
    'GET group members': await json(`${A()}/groups/${groupId}/members`),
    'GET tenant events (audit trail)': await json(`${A()}/events?limit=1000`),
    'GET feed of the tenant': await json(`/v1/events?tenantId=${tenantA}&limit=1000`),
    'GET feed of every tenant': await json('/v1/events?limit=1000'),
    'SSE feed': await sseOfA(),
    'CLI history': await ok(cli(['history', '--tenant', tenantA])),
    'CLI history --json': await ok(cli(['history', '--tenant', tenantA, '--json'])),
    'CLI history --at a position before erasure': await ok(
      cli(['history', '--tenant', tenantA, '--at', namedAt, '--json']),
    ),
    'CLI audit': await ok(cli(['audit', '--tenant', tenantA])),
    'CLI export --tenant': await ok(cli(['export', '--tenant', tenantA])),
    'CLI export --all': await ok(cli(['export', '--all'])),
    'CLI export --raw': await ok(cli(['export', '--all', '--raw'])),
    'read models': JSON.stringify(await readModels()),
    'event table': JSON.stringify(await rawEvents()),
  });

  const where = (sources: Record<string, string>, text: string): string[] =>
    Object.entries(sources)
      .filter(([, output]) => output.includes(text))
      .map(([source]) => source);

  const erase = (tenantId: string, userId: string, auth: Record<string, string>) =>
    http().post(`/v1/tenants/${tenantId}/members/${userId}/erase`).set(auth).send();

  beforeAll(async () => {
    app = await startTestApp();
    await app.app.listen(0, '127.0.0.1');
    directory = await mkdtemp(path.join(os.tmpdir(), 'tenancy-erasure-'));
    tenantA = (await kit.createTenant('Erasure A')).tenantId;
    tenantB = (await kit.createTenant('Erasure B')).tenantId;
    adminOfA = (await kit.issueKey(tenantA, 'admin')).auth;
    readerOfA = (await kit.issueKey(tenantA, 'reader')).auth;
    adminOfB = (await kit.issueKey(tenantB, 'admin')).auth;
    const put = async (tenantId: string, userId: string, displayName: string) => {
      const response = await http()
        .put(`/v1/tenants/${tenantId}/members/${userId}`)
        .set(AUTH)
        .send({ displayName });
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ displayName });
    };
    // Added, renamed and named again: every display name event of the person is covered.
    await put(tenantA, USER, `${NAME} (draft)`);
    expect((await http().put(`${A()}/members/${USER}`).set(AUTH).send({ displayName: NAME })).status).toBe(
      200,
    );
    await put(tenantA, OTHER_USER, OTHER_NAME);
    await put(tenantB, USER, B_NAME);
    const group = await http().post(`${A()}/groups`).set(AUTH).send({ name: 'Erasure group' });
    expect(group.status).toBe(201);
    groupId = (group.body as { groupId: string }).groupId;
    const joined = await http().put(`${A()}/groups/${groupId}/members/${USER}`).set(AUTH).send();
    expect(joined.status).toBeLessThan(300);
    namedAt = (joined.body as { position: string }).position;
    await kit.settle();
    await kit.readModelAt(namedAt);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('is refused to a reader key and to another tenant’s admin, with a stable code, changing nothing', async () => {
    const before = await rawEvents();
    const reader = await erase(tenantA, USER, readerOfA);
    expect(reader.status).toBe(403);
    expect(reader.body).toMatchObject({ code: 'FORBIDDEN' });
    // Another tenant's key learns nothing of tenant A, not even that it exists.
    const foreign = await erase(tenantA, USER, adminOfB);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ code: 'TENANT_NOT_FOUND' });
    const stranger = await erase(tenantA, 'never.a.member', AUTH);
    expect(stranger.status).toBe(404);
    expect(stranger.body).toMatchObject({ code: 'MEMBER_NOT_FOUND' });
    const invalid = await erase(tenantA, 'not%20valid', AUTH);
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await rawEvents()).toEqual(before);
    expect((await http().get(`${A()}/members/${USER}`).set(AUTH)).body).toMatchObject({
      displayName: NAME,
    });
  });

  it('leaves the name nowhere, keeps every stored event byte for byte, and is tenant-scoped and idempotent', async () => {
    const before = await everything();
    // Where the name belongs while the person's key exists, it is there: the grep below can fail.
    expect(where(before, NAME).sort()).toEqual(
      [
        'GET members',
        'GET member',
        'GET member as tenant admin',
        'GET group members',
        'GET tenant events (audit trail)',
        'GET feed of the tenant',
        'GET feed of every tenant',
        'SSE feed',
        'CLI history',
        'CLI history --json',
        'CLI history --at a position before erasure',
      ].sort(),
    );
    // The log, the read models and exports only ever hold it sealed.
    expect(before['event table']).toContain('pd1.');
    const eventsBefore = await rawEvents();

    const erased = await erase(tenantA, USER, adminOfA);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ tenantId: tenantA, userId: USER, personalDataErased: true });
    const position = (erased.body as { position: string }).position;
    await kit.readModelAt(position);

    const after = await everything();
    expect(where(after, NAME)).toEqual([]);
    // What the feed publishes, the name revealed and then marked erased, is what its catalog describes.
    const validator = await loadEventSchemaValidator();
    for (const feed of [before, after])
      validator.assertAllValid((JSON.parse(feed['GET feed of the tenant']!) as { items: never[] }).items);
    expect(after['GET feed of the tenant']).toContain('"erased":true');
    expect(where(after, 'Quillonette')).toEqual([]);
    // The member is still there, marked as erased; the other member of A keeps their name.
    expect(JSON.parse(after['GET member']!)).toMatchObject({
      userId: USER,
      displayName: null,
      personalDataErased: true,
    });
    expect(after['GET members']).toContain(OTHER_NAME);
    expect(after['CLI history']).toContain(`${USER} (personal data erased)`);

    // The log: the same rows, byte for byte, and one more.
    const eventsAfter = await rawEvents();
    expect(eventsAfter.slice(0, eventsBefore.length)).toEqual(eventsBefore);
    expect(eventsAfter.slice(eventsBefore.length).map((event) => event.type)).toEqual(['PersonalDataErased']);

    // The same userId in tenant B is another person: untouched.
    const inB = await http().get(`/v1/tenants/${tenantB}/members/${USER}`).set(AUTH);
    expect(inB.body).toMatchObject({ userId: USER, displayName: B_NAME });
    expect(inB.body).not.toHaveProperty('personalDataErased');
    expect(await ok(cli(['history', '--tenant', tenantB]))).toContain(B_NAME);

    // Again: answered the same, nothing appended, nothing changed.
    const again = await erase(tenantA, USER, AUTH);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ personalDataErased: true, position });
    expect(await rawEvents()).toEqual(eventsAfter);
  }, 180_000);

  it('verifies clean after erasure, and a replay rebuilds identical read models', async () => {
    const live = await readModels();
    const verify = await cli(['verify']);
    expect(verify.stdout).toMatch(/read models match the event log/);
    expect(verify.code).toBe(0);
    await ok(cli(['replay']));
    expect(await readModels()).toEqual(live);
    expect(JSON.stringify(live)).not.toContain(NAME);
  }, 120_000);

  it('hides a name written in plain text before names were sealed, which only the log itself keeps', async () => {
    const legacyUser = 'legacy.person';
    const legacyName = 'Ottoline Legacy-Fairweather';
    const store = app.runtime.eventStore;
    const stream = `tenant-${tenantA}`;
    // As the release before sealing wrote it: schema version 1, the name in plain text.
    const appended = await store.appendToStream(
      stream,
      [
        {
          type: 'MemberAdded',
          data: { tenantId: tenantA, userId: legacyUser, displayName: legacyName },
          metadata: {
            correlationId: 'legacy',
            causationId: 'legacy',
            actor: 'operator',
            occurredAt: '2025-01-01T00:00:00.000Z',
            schemaVersion: 1,
          },
        },
      ],
      (await store.streamRevision(stream))!,
    );
    await kit.readModelAt(appended.position);
    const member = await http().get(`${A()}/members/${legacyUser}`).set(AUTH);
    expect(member.body).toMatchObject({ displayName: legacyName });
    const erased = await erase(tenantA, legacyUser, AUTH);
    expect(erased.status).toBe(200);
    await kit.readModelAt((erased.body as { position: string }).position);
    // Crypto-shredding cannot reach a name that was never sealed: the log keeps it (docs/personal-data.md),
    // and every read path withholds it.
    expect(where(await everything(), legacyName)).toEqual(['event table']);
    expect((await http().get(`${A()}/members/${legacyUser}`).set(AUTH)).body).toMatchObject({
      displayName: null,
      personalDataErased: true,
    });
  }, 120_000);

  it('is safe to repeat at once, after a crash between deleting the key and recording it, and for a former member', async () => {
    const erasuresOf = async (userId: string): Promise<number> => {
      const { rows } = await app.database.pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM events
         WHERE stream_name = $1 AND event_type = 'PersonalDataErased' AND data ->> 'userId' = $2`,
        [`tenant-${tenantA}`, userId],
      );
      return rows[0]!.count;
    };
    const add = async (userId: string) => {
      const response = await http()
        .put(`${A()}/members/${userId}`)
        .set(AUTH)
        .send({ displayName: `Elspeth ${userId} Gravenor-Quist` });
      expect(response.status).toBe(201);
      await kit.readModelAt((response.body as { position: string }).position);
    };

    await add('racer');
    const racing = await Promise.all(Array.from({ length: 6 }, () => erase(tenantA, 'racer', AUTH)));
    expect(racing.map((response) => response.status)).toEqual(Array(6).fill(200));
    expect(await erasuresOf('racer')).toBe(1);
    // A name given after the erasure is sealed with a new key: readable, while the erased ones stay erased.
    const renamed = await http().put(`${A()}/members/racer`).set(AUTH).send({ displayName: 'Tamsin Anew' });
    expect(renamed.status).toBe(200);
    const feed = await http()
      .get(`/v1/events?tenantId=${tenantA}&limit=1000`)
      .set(AUTH)
      .set('Min-Position', (renamed.body as { position: string }).position);
    const names = (
      feed.body as { items: { type: string; data: { userId?: string; displayName?: object } }[] }
    ).items
      .filter((item) => item.type.startsWith('Member') && item.data.userId === 'racer')
      .map((item) => item.data.displayName);
    expect(names).toEqual([
      { sealed: expect.any(String), erased: true },
      { sealed: expect.any(String), text: 'Tamsin Anew' },
    ]);
    expect(
      (
        await http()
          .get(`${A()}/members/racer`)
          .set(AUTH)
          .set('Min-Position', (renamed.body as { position: string }).position)
      ).body,
    ).toMatchObject({ displayName: 'Tamsin Anew' });
    expect((await erase(tenantA, 'racer', AUTH)).status).toBe(200);
    expect(await erasuresOf('racer')).toBe(2);

    // The process died after the key was deleted: the name is unreadable already, and a retry records it.
    await add('crashed');
    const { rowCount } = await app.database.pool.query(
      'DELETE FROM personal_data_keys WHERE tenant_id = $1 AND user_id = $2',
      [tenantA, 'crashed'],
    );
    expect(rowCount).toBe(1);
    expect(await erasuresOf('crashed')).toBe(0);
    const unreadable = await http().get(`${A()}/members/crashed`).set(AUTH);
    expect(unreadable.body).toMatchObject({ displayName: null, personalDataErased: true });
    expect((await erase(tenantA, 'crashed', AUTH)).status).toBe(200);
    expect(await erasuresOf('crashed')).toBe(1);

    // Someone who left is still in the log, so still erasable.
    await add('former');
    expect((await http().delete(`${A()}/members/former`).set(AUTH)).status).toBe(204);
    const gone = await erase(tenantA, 'former', AUTH);
    expect(gone.status).toBe(200);
    expect(await erasuresOf('former')).toBe(1);
    await kit.readModelAt((gone.body as { position: string }).position);
    expect(where(await everything(), 'Gravenor-Quist')).toEqual([]);
  }, 120_000);

  it('leaves no name readable that was given between the key’s deletion and the erasure’s event', async () => {
    const userId = 'contender';
    const added = await http()
      .put(`${A()}/members/${userId}`)
      .set(AUTH)
      .send({ displayName: 'Wilhelmina Contender-Rask' });
    expect(added.status).toBe(201);
    // The erasure's append waits until another instance has recorded a new name: the key is gone by
    // then, so that name is sealed with a fresh key, in the log before PersonalDataErased.
    const other = await startTestAppOn(app.database, { runConsumers: false });
    const store = app.runtime.eventStore;
    const append = store.appendToStream.bind(store);
    let renamed: () => void = () => undefined;
    const renameRecorded = new Promise<void>((resolve) => {
      renamed = resolve;
      setTimeout(resolve, 5_000).unref();
    });
    store.appendToStream = async (stream, events, expected) => {
      if (events.some((event) => event.type === 'PersonalDataErased')) await renameRecorded;
      return append(stream, events, expected);
    };
    const otherStore = other.runtime.eventStore;
    const otherAppend = otherStore.appendToStream.bind(otherStore);
    otherStore.appendToStream = async (...args) => {
      const result = await otherAppend(...args);
      renamed();
      return result;
    };
    try {
      // supertest sends on then(): started now, awaited below.
      const erasing = erase(tenantA, userId, AUTH).then((response) => response);
      await waitFor(async () => {
        const { rowCount } = await app.database.pool.query(
          'SELECT 1 FROM personal_data_keys WHERE tenant_id = $1 AND user_id = $2',
          [tenantA, userId],
        );
        return rowCount === 0;
      }, 5_000);
      const renaming = request(other.server)
        .put(`${A()}/members/${userId}`)
        .set(AUTH)
        .send({ displayName: 'Wilhelmina Renamed-Rask' });
      const [erased, rename] = await Promise.all([erasing, renaming]);
      expect([erased.status, rename.status]).toEqual([200, 200]);
    } finally {
      store.appendToStream = append;
      await other.close();
    }
    const feed = await http().get(`/v1/events?tenantId=${tenantA}&limit=1000`).set(AUTH);
    const items = (
      feed.body as { items: { type: string; data: { userId?: string; displayName?: { text?: string } } }[] }
    ).items.filter((item) => item.data.userId === userId);
    expect(items.map((item) => item.type)).toEqual(['MemberAdded', 'MemberUpdated', 'PersonalDataErased']);
    expect(items.filter((item) => item.data.displayName?.text !== undefined)).toEqual([]);
  }, 60_000);

  describe('an export and import round trip', () => {
    let target: TestDatabase;
    beforeAll(async () => {
      target = await createTestDatabase();
    });
    afterAll(async () => target?.drop());

    it('keeps the erasure, carries the other names, and never writes a key in clear', async () => {
      const file = path.join(directory, 'export.ndjson');
      const passphraseFile = path.join(directory, 'passphrase');
      await writeFile(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o600 });
      await ok(cli(['export', '--all', '--out', file, '--keys-passphrase-file', passphraseFile]));
      const exported = await readFile(file, 'utf8');
      expect(exported).not.toContain(NAME);
      expect(exported).not.toContain(OTHER_NAME);
      // The keys in the database appear in the file neither as they are stored nor encoded.
      const { rows: keys } = await app.database.pool.query<{ key: Buffer; person: string }>(
        `SELECT key, tenant_id || '/' || user_id AS person FROM personal_data_keys`,
      );
      // The erased person has no key left to export.
      expect(keys.map((key) => key.person).sort()).toEqual(
        [`${tenantA}/${OTHER_USER}`, `${tenantB}/${USER}`].sort(),
      );
      for (const { key } of keys) {
        for (const encoding of ['base64', 'base64url', 'hex'] as const)
          expect(exported).not.toContain(key.toString(encoding).replace(/=+$/, ''));
      }

      // One tenant's export without a passphrase leaves its one key out, and says so in words.
      const withoutKeys = await cli([
        'export',
        '--tenant',
        tenantB,
        '--out',
        path.join(directory, 'b.ndjson'),
      ]);
      expect(withoutKeys.code).toBe(0);
      expect(withoutKeys.stderr).toMatch(/; 1 personal-data key left out \(no --keys-passphrase-file\)/);

      // Without the passphrase the wrapped keys cannot be restored: refused before anything is written.
      const refused = await cli(['import', file], target.url);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/passphrase/);
      const wrong = path.join(directory, 'wrong-passphrase');
      await writeFile(wrong, 'not the passphrase that wrapped them\n', { mode: 0o600 });
      const mistaken = await cli(['import', file, '--keys-passphrase-file', wrong], target.url);
      expect(mistaken.code).toBe(1);
      const { rows: nothing } = await target.pool.query<{ count: number }>(
        'SELECT count(*)::int AS count FROM events',
      );
      expect(nothing[0]!.count).toBe(0);

      await ok(cli(['import', file, '--keys-passphrase-file', passphraseFile], target.url));
      const history = await ok(cli(['history', '--tenant', tenantA], target.url));
      expect(history).toContain(`${USER} (personal data erased)`);
      expect(history).toContain(OTHER_NAME);
      expect(history).not.toContain(NAME);
      const exportedAgain = await ok(cli(['export', '--tenant', tenantA], target.url));
      expect(exportedAgain).not.toContain(NAME);
      // The imported log verifies, and the name stays out of its read models once they are built.
      await ok(cli(['replay'], target.url));
      expect(JSON.stringify(await readModels(target.pool))).not.toContain(NAME);
      const verify = await cli(['verify'], target.url);
      expect(verify.code).toBe(0);
    }, 180_000);
  });

  // Last: the round trip above lists every key of the store.
  it('deletes no key for an erasure that is refused: concurrent erasures with one If-Match, one applies, the others keep their names', async () => {
    const tenant = await kit.createTenant('Refused erasures');
    // The If-Match below is the last member's revision: the root's bootstrap must not come after it.
    await kit.settle();
    const T = `/v1/tenants/${tenant.tenantId}`;
    const people = Array.from({ length: 20 }, (_, index) => `refused-${index}@example.com`);
    let revision = 0;
    let position = '';
    for (const userId of people) {
      const put = await request(app.server)
        .put(`${T}/members/${userId}`)
        .set(AUTH)
        .send({ displayName: `Person ${userId}` });
      expect(put.status).toBe(201);
      ({ revision, position } = put.body as { revision: number; position: string });
    }
    const answers = await Promise.all(
      people.map((userId) =>
        request(app.server).post(`${T}/members/${userId}/erase`).set(AUTH).set('If-Match', `"${revision}"`),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, ...Array<number>(19).fill(412)]);
    const refused = people.filter((_, index) => answers[index]!.status === 412);
    const lost: string[] = [];
    for (const userId of refused) {
      // At the last member's position: a read model short of it would not have them yet.
      const member = await request(app.server)
        .get(`${T}/members/${userId}`)
        .set(AUTH)
        .set('Min-Position', position);
      const body = member.body as { displayName: string | null; personalDataErased?: boolean };
      if (body.displayName !== `Person ${userId}` || body.personalDataErased === true)
        lost.push(`${userId}: ${JSON.stringify(body)}`);
    }
    expect(lost).toEqual([]);
  });
});

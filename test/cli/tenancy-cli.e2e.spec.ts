import type pg from 'pg';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { TenantCommandExecutor } from '../../src/application/commands/tenant-command.executor.js';
import { exportEvents, type ExportedEvent } from '../../src/cli/commands/export.command.js';
import { tenantAtPoint } from '../../src/application/queries/tenant-at-point.js';
import { renderTenantTree } from '../../src/cli/tenant-tree.render.js';
import { ImportError, importEvents, type ImportProgress } from '../../src/cli/commands/import.command.js';
import { runTenancyCli } from '../../src/cli/tenancy.cli.js';
import type { EventStore, Position, RecordedEvent } from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { CURRENT_SCHEMA_VERSION } from '../../src/tenancy/tenancy.events.js';
import { rootWorkspaceIdOf } from '../../src/tenancy/root-workspace.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { PersonalDataVault } from '../../src/personal-data/personal-data.vault.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { capture } from '../support/capture.js';
import { rowsOf, writeHistory, type HistoryFixture } from './history-fixture.js';

const run = promisify(execFile);

async function readWholeLog(store: EventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  let after: Position | undefined;
  for (;;) {
    const page = await store.readAll({
      after,
      maxCount: 1000,
      filter: { streamPrefixes: ['tenant-', 'tenantname-'] },
    });
    events.push(...page.events);
    after = page.nextPosition ?? after;
    if (page.isEnd) return events;
  }
}

const comparable = (event: {
  id: string;
  streamName: string;
  revision: number;
  type: string;
  data: unknown;
  metadata: unknown;
}) => ({
  id: event.id,
  streamName: event.streamName,
  revision: event.revision,
  type: event.type,
  data: event.data,
  metadata: event.metadata,
});

describe('tenancy CLI on a long history', () => {
  let app: TestApp;
  let store: EventStore;
  let fixture: HistoryFixture;
  let directory: string;
  const scratchDatabases: TestDatabase[] = [];
  /** Each store's own database, where its personal-data keys live. */
  const poolOf = new Map<EventStore, pg.Pool>();
  const scratchStore = async () => {
    const database = await createTestDatabase();
    scratchDatabases.push(database);
    const scratch = new PostgresEventStore(database.pool, database.url);
    poolOf.set(scratch, database.pool);
    return scratch;
  };
  const cli = (argv: string[], eventStore: EventStore = store) => {
    const stdout = capture();
    const stderr = capture();
    const exit = runTenancyCli(argv, {
      stdin: new PassThrough(),
      stdout,
      stderr,
      openEventStore: async () => ({
        eventStore,
        pool: poolOf.get(eventStore),
        close: async () => undefined,
      }),
    });
    return exit.then((code) => ({ code, stdout: stdout.text(), stderr: stderr.text() }));
  };

  beforeAll(async () => {
    app = await startTestApp();
    store = app.runtime.eventStore;
    poolOf.set(store, app.runtime.pool);
    directory = await mkdtemp(path.join(os.tmpdir(), 'tenancy-cli-'));
    fixture = await writeHistory(app.app.get(TenantCommandExecutor), async (tenantId) => {
      const response = await request(app.server)
        .post('/v1/tenants')
        .set(AUTH)
        .send({ tenantId, name: `History ${tenantId}` });
      expect(response.status).toBe(201);
    });
  }, 180_000);
  afterAll(async () => {
    for (const database of scratchDatabases) await database.drop();
    await app.close();
    await rm(directory, { recursive: true, force: true });
  });

  describe('history', () => {
    it('is built on thousands of events with renames, cascades and a deleted tenant', async () => {
      const { rows } = await app.database.pool.query<{ type: string; count: number }>(
        `SELECT event_type AS type, count(*)::int AS count FROM events WHERE stream_name LIKE 'tenant-%' GROUP BY 1`,
      );
      const counts = Object.fromEntries(rows.map((row) => [row.type, row.count]));
      expect(rows.reduce((sum, row) => sum + row.count, 0)).toBeGreaterThan(3000);
      expect(counts.WorkspaceRenamed).toBeGreaterThanOrEqual(400);
      expect(counts.WorkspaceDeletionStarted).toBeGreaterThanOrEqual(2);
      expect(counts.TenantDeleted).toBe(1);
      expect(fixture.snapshots.length).toBeGreaterThan(10);
    });

    it('at each past position equals the tree the domain held right after writing it', async () => {
      for (const snapshot of fixture.snapshots) {
        const tenant = await tenantAtPoint(store, snapshot.tenantId, { position: snapshot.position });
        expect(tenant.position).toBe(snapshot.position);
        expect({ status: tenant.status, workspaces: rowsOf(tenant.workspaces) }).toEqual({
          status: snapshot.status,
          workspaces: snapshot.workspaces,
        });
      }
    });

    it('at an ISO time equals the tree current at that moment', async () => {
      const { time, snapshot } = fixture.timePoint;
      const tenant = await tenantAtPoint(store, snapshot.tenantId, { time });
      expect(tenant.position).toBe(snapshot.position);
      expect(rowsOf(tenant.workspaces)).toEqual(snapshot.workspaces);
    });

    it('now equals the tree the test tracked itself, command by command', async () => {
      const tenant = await tenantAtPoint(store, fixture.liveTenantId);
      expect(tenant.status).toBe('active');
      expect(rowsOf(tenant.workspaces)).toEqual(fixture.expectedFinalTree);
    });

    it('lists parents before children, each child right under its parent subtree', async () => {
      const { workspaces } = await tenantAtPoint(store, fixture.liveTenantId);
      const path: string[] = [];
      for (const workspace of workspaces) {
        path.length = workspace.depth;
        expect(workspace.parentWorkspaceId).toBe(workspace.depth === 0 ? null : path[workspace.depth - 1]);
        path.push(workspace.workspaceId);
      }
    });

    it('shows a deleted tenant as deleted with no workspaces, and as it was before its deletion', async () => {
      const now = await tenantAtPoint(store, fixture.deletedTenantId);
      expect({ status: now.status, workspaces: now.workspaces }).toEqual({
        status: 'deleted',
        workspaces: [],
      });
      const before = fixture.snapshots.find((snapshot) => snapshot.tenantId === fixture.deletedTenantId)!;
      expect(
        (await tenantAtPoint(store, fixture.deletedTenantId, { position: before.position })).workspaces,
      ).toHaveLength(401);
    });

    it('prints an indented tree, marking a subtree being deleted', async () => {
      const tenantId = randomUUID();
      const http = () => request(app.server);
      await http().post('/v1/tenants').set(AUTH).send({ tenantId, name: 'Drawn' }).expect(201);
      const post = async (name: string, parentWorkspaceId?: string) =>
        (
          await http()
            .post(`/v1/tenants/${tenantId}/workspaces`)
            .set(AUTH)
            .send({ name, parentWorkspaceId })
            .expect(201)
        ).body.workspaceId as string;
      const a = await post('A');
      const b = await post('B', a);
      await post('C', b);
      const d = await post('D', a);
      const e = await post('E');
      const cascade = await http()
        .delete(`/v1/tenants/${tenantId}/workspaces/${b}?cascade=true`)
        .set(AUTH)
        .expect(202);
      const tenant = await tenantAtPoint(store, tenantId, { position: cascade.body.position as Position });
      const root = rootWorkspaceIdOf(tenantId);
      const c = tenant.workspaces.find((workspace) => workspace.name === 'C')!.workspaceId;
      expect(renderTenantTree(tenant).split('\n').slice(4, 11)).toEqual([
        `Root  (${root})`,
        `├── A  (${a})`,
        `│   ├── B  (${b})  [deleting]`,
        `│   │   └── C  (${c})`,
        `│   └── D  (${d})`,
        `└── E  (${e})`,
        '',
      ]);
    });

    it('shows the members, groups and grants as they were at a past position', async () => {
      const http = () => request(app.server);
      const created = await http()
        .post('/v1/tenants')
        .set(AUTH)
        .send({ name: 'Historians', adminUserId: 'first-admin' })
        .expect(201);
      const tenantId = created.body.tenantId as string;
      const T = `/v1/tenants/${tenantId}`;
      const a = (await http().post(`${T}/workspaces`).set(AUTH).send({ name: 'Archive' }).expect(201)).body
        .workspaceId as string;
      await http().put(`${T}/members/clio`).set(AUTH).send({ displayName: 'Clio' }).expect(201);
      const group = (await http().post(`${T}/groups`).set(AUTH).send({ name: 'Scribes' }).expect(201)).body
        .groupId as string;
      await http().put(`${T}/groups/${group}/members/clio`).set(AUTH).expect(201);
      const granted = await http()
        .post(`${T}/grants`)
        .set(AUTH)
        .send({ principal: { type: 'group', id: group }, role: 'editor', workspaceId: a })
        .expect(201);
      const then = granted.body.position as Position;
      await http().delete(`${T}/members/clio`).set(AUTH).expect(204);
      await http()
        .delete(`${T}/grants/${granted.body.grantId as string}`)
        .set(AUTH)
        .expect(204);
      await http().delete(`${T}/groups/${group}`).set(AUTH).expect(204);

      const past = await tenantAtPoint(
        store,
        tenantId,
        { position: then },
        new PersonalDataVault(app.runtime.pool),
      );
      expect(past.members).toEqual([
        { userId: 'first-admin', displayName: null, groupIds: [] },
        { userId: 'clio', displayName: 'Clio', groupIds: [group] },
      ]);
      expect(past.groups).toEqual([{ groupId: group, name: 'Scribes', members: ['clio'] }]);
      expect(past.grants.map((grant) => [grant.principal.id, grant.role, grant.workspaceId])).toEqual([
        ['first-admin', 'admin', null],
        [group, 'editor', a],
      ]);
      const now = await tenantAtPoint(store, tenantId);
      expect([now.members.map((member) => member.userId), now.groups, now.grants.length]).toEqual([
        ['first-admin'],
        [],
        1,
      ]);

      const printed = await cli(['history', '--tenant', tenantId, '--at', then]);
      expect(printed.code).toBe(0);
      expect(printed.stdout).toContain('\n2 members\n  first-admin\n  clio (Clio)  in Scribes\n');
      expect(printed.stdout).toContain(`\n1 group\n  Scribes  (${group})  1 member\n`);
      expect(printed.stdout).toContain(
        `  editor on Archive (${a}) to group Scribes  (${granted.body.grantId as string})`,
      );
      const json = await cli(['history', '--tenant', tenantId, '--at', then, '--json']);
      expect(JSON.parse(json.stdout)).toEqual(past);
    });

    it('answers through the command line as JSON, and refuses bad arguments with exit code 2', async () => {
      const snapshot = fixture.snapshots[2]!;
      const result = await cli([
        'history',
        '--tenant',
        snapshot.tenantId,
        '--at',
        snapshot.position,
        '--json',
      ]);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual(
        await tenantAtPoint(store, snapshot.tenantId, { position: snapshot.position }),
      );

      expect((await cli(['history', '--tenant', 'acme'])).code).toBe(2);
      expect((await cli(['history', '--tenant', snapshot.tenantId, '--at', 'last tuesday'])).code).toBe(2);
      expect((await cli(['history', '--tenant', snapshot.tenantId, '--colour'])).code).toBe(2);
      const missing = await cli(['history', '--tenant', randomUUID()]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/No tenant/);
      const help = await cli(['history', '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: tenancy history --tenant/);
    });

    it('runs as `tenancy` from bin/tenancy.js against the configured database', async () => {
      const snapshot = fixture.snapshots[0]!;
      const { stdout } = await run(
        process.execPath,
        ['bin/tenancy.js', 'history', '--tenant', snapshot.tenantId, '--at', snapshot.position, '--json'],
        {
          env: { ...process.env, DATABASE_URL: app.database.url, NODE_OPTIONS: '' },
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      const tenant = JSON.parse(stdout) as {
        workspaces: { workspaceId: string; parentWorkspaceId: string | null; name: string; status: string }[];
      };
      expect(rowsOf(tenant.workspaces)).toEqual(snapshot.workspaces);
    });
  });

  describe('export and import', () => {
    let exportFile: string;
    let exported: ExportedEvent[];

    beforeAll(async () => {
      exportFile = path.join(directory, 'all.ndjson');
      const result = await cli(['export', '--all', '--out', exportFile]);
      expect(result.code).toBe(0);
      const lines = (await readFile(exportFile, 'utf8')).split('\n').filter((line) => line !== '');
      // The file ends with the line that counts the ones before it (and hashes them).
      expect(JSON.parse(lines.at(-1)!)).toEqual({
        exportEnd: {
          events: lines.length - 1,
          personalDataErasures: 0,
          personalDataKeys: 0,
          sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
      });
      exported = lines.slice(0, -1).map((line) => JSON.parse(line) as ExportedEvent);
    });

    it('exports every event of the service, name reservations included, in log order with positions', async () => {
      const log = await readWholeLog(store);
      expect(exported.map((line) => line.position)).toEqual(log.map((event) => event.position));
      expect(exported.map(comparable)).toEqual(log.map(comparable));
      expect(exported.some((line) => line.streamName.startsWith('tenantname-'))).toBe(true);
      expect(exported[0]).toEqual({
        position: expect.any(String),
        streamName: expect.any(String),
        revision: expect.any(Number),
        id: expect.any(String),
        type: expect.any(String),
        data: expect.any(Object),
        metadata: expect.any(Object),
        recordedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    });

    it('exports one tenant from its stream', async () => {
      const result = await cli(['export', '--tenant', fixture.deletedTenantId]);
      expect(result.code).toBe(0);
      const lines = result.stdout
        .trim()
        .split('\n')
        .slice(0, -1)
        .map((line) => JSON.parse(line) as ExportedEvent);
      expect(lines.map((line) => line.revision)).toEqual(lines.map((_, index) => index));
      expect(new Set(lines.map((line) => line.streamName))).toEqual(
        new Set([tenantStreamName(fixture.deletedTenantId)]),
      );
      expect(lines.at(-1)?.type).toBe('TenantDeleted');
    });

    it('waits for a slow output to drain instead of buffering the export', async () => {
      let largestBuffer = 0;
      let lines = 0;
      const slow: Writable = new Writable({
        highWaterMark: 4096,
        write(_chunk, _encoding, callback) {
          lines++;
          setImmediate(callback);
        },
      });
      const originalWrite = slow.write.bind(slow);
      slow.write = ((chunk: string) => {
        const accepted = originalWrite(chunk);
        largestBuffer = Math.max(largestBuffer, slow.writableLength);
        return accepted;
      }) as typeof slow.write;
      const { events } = await exportEvents(store, 'all', slow, new PersonalDataVault(app.runtime.pool));
      slow.end();
      await finished(slow);
      // And the end line.
      expect(lines).toBe(events + 1);
      expect(events).toBe(exported.length);
      // One line over the high-water mark at most: the exporter stopped as soon as write() said so.
      expect(largestBuffer).toBeLessThan(4096 + 2048);
    });

    it('imports into an empty store: the same events, ids, revisions and metadata in the same order', async () => {
      const target = await scratchStore();
      const result = await cli(['import', exportFile], target);
      expect(result).toMatchObject({ code: 0 });
      expect(result.stderr).toContain(`imported ${exported.length} events`);
      const imported = await readWholeLog(target);
      expect(imported.map(comparable)).toEqual(exported.map(comparable));
      // Both logs fold to the same trees.
      for (const tenantId of [fixture.liveTenantId, fixture.deletedTenantId]) {
        expect(await tenantAtPoint(target, tenantId)).toMatchObject({
          status: (await tenantAtPoint(store, tenantId)).status,
          workspaces: (await tenantAtPoint(store, tenantId)).workspaces,
        });
      }
    });

    it('reports progress while importing', async () => {
      const target = await scratchStore();
      const progress: ImportProgress[] = [];
      const result = await importEvents(
        target,
        () => createReadStream(exportFile),
        (step) => progress.push(step),
      );
      expect(result.events).toBe(exported.length);
      expect(progress.length).toBeGreaterThan(5);
      expect(progress.at(-1)?.events).toBe(exported.length);
      expect(progress.map((step) => step.events)).toEqual(
        [...progress.map((step) => step.events)].sort((a, b) => a - b),
      );
    });

    it('refuses a store that already holds tenancy events other than the beginning of the file, and changes nothing', async () => {
      const oneTenant = path.join(directory, 'one-tenant.ndjson');
      expect((await cli(['export', '--tenant', fixture.liveTenantId, '--out', oneTenant])).code).toBe(0);
      const before = (await readWholeLog(store)).length;
      await expect(importEvents(store, () => createReadStream(oneTenant))).rejects.toThrow(ImportError);
      expect((await readWholeLog(store)).length).toBe(before);
      expect((await cli(['import', oneTenant])).code).toBe(1);
    });

    it('imports nothing into the store the file was exported from: it holds the whole file already', async () => {
      const before = (await readWholeLog(store)).length;
      const result = await importEvents(store, () => createReadStream(exportFile));
      expect(result).toMatchObject({ events: 0, alreadyImported: exported.length });
      expect((await readWholeLog(store)).length).toBe(before);
    });

    it('refuses a file with a gap in a stream instead of writing a different history', async () => {
      const lines = (await readFile(exportFile, 'utf8')).split('\n').slice(0, 200);
      const holes = lines.filter(
        (line) => JSON.parse(line).revision !== 5 || !JSON.parse(line).streamName.startsWith('tenant-'),
      );
      expect(holes.length).toBeLessThan(lines.length);
      const gapped = path.join(directory, 'gapped.ndjson');
      await writeFile(gapped, holes.join('\n'));
      await expect(importEvents(await scratchStore(), () => createReadStream(gapped))).rejects.toThrow(
        /revision/,
      );
    });

    it('upcasts older schema versions by default and keeps them as stored with --raw', async () => {
      const source = await scratchStore();
      const tenantId = randomUUID();
      await source.appendToStream(
        tenantStreamName(tenantId),
        [
          { type: 'TenantCreated', data: { tenantId, name: 'Old' }, metadata: { actor: 'operator' } },
          {
            type: 'WorkspaceRenamed',
            data: { workspaceId: rootWorkspaceIdOf(tenantId), name: 'X' },
            metadata: { actor: 'operator' },
          },
        ],
        'no_stream',
      );
      const upcast = await cli(['export', '--tenant', tenantId], source);
      const raw = await cli(['export', '--tenant', tenantId, '--raw'], source);
      const upcastLine = JSON.parse(upcast.stdout.trim().split('\n')[1]!) as ExportedEvent;
      const rawLine = JSON.parse(raw.stdout.trim().split('\n')[1]!) as ExportedEvent;
      expect(upcastLine.data).toEqual({ tenantId, workspaceId: rootWorkspaceIdOf(tenantId), name: 'X' });
      expect(upcastLine.metadata).toEqual({ actor: 'operator', schemaVersion: CURRENT_SCHEMA_VERSION });
      expect(rawLine.data).toEqual({ workspaceId: rootWorkspaceIdOf(tenantId), name: 'X' });
      expect(rawLine.metadata).toEqual({ actor: 'operator' });
    });

    it('refuses export without exactly one of --tenant and --all', async () => {
      expect((await cli(['export'])).code).toBe(2);
      expect((await cli(['export', '--all', '--tenant', randomUUID()])).code).toBe(2);
      expect((await cli(['import'])).code).toBe(2);
    });
  });

  it('lists its commands, and refuses an unknown one', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['replay', 'verify', 'history', 'audit', 'export', 'import'])
      expect(help.stdout).toContain(`  ${name}`);
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });
});

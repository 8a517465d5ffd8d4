import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { ExportedEvent } from '../../src/cli/commands/export.command.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { PROJECT_ROOT } from '../support/service-process.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { runTenancyProcess, type CliRun as Run } from '../support/tenancy-process.js';

const PASSPHRASE = 'a passphrase long enough for the keys';

/**
 * An export file says where it ends: one cut short at a line boundary (an interrupted `export >
 * file`, a full disk, a truncated copy, `head -n`) is refused by import instead of loading a
 * shorter history.
 */
describe('export completeness', () => {
  let app: TestApp;
  let directory: string;
  let passphraseFile: string;
  /** The intact export of the whole log, with wrapped keys. */
  let exportFile: string;
  let lines: string[];
  let target: TestDatabase;

  const tenancy = (args: string[], databaseUrl: string = app.database.url): Promise<Run> =>
    runTenancyProcess(args, databaseUrl);
  const importInto = (database: TestDatabase, file: string, ...extra: string[]) =>
    tenancy(['import', file, '--keys-passphrase-file', passphraseFile, ...extra], database.url);
  const eventsIn = async (database: TestDatabase) =>
    (await database.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM events')).rows[0]!
      .count;
  const writeLines = async (name: string, content: readonly string[]) => {
    const file = path.join(directory, name);
    await writeFile(file, content.map((line) => `${line}\n`).join(''));
    return file;
  };
  const isEvent = (line: string) => 'position' in (JSON.parse(line) as object);
  const sha256OfLines = (content: readonly string[]) =>
    createHash('sha256')
      .update(content.map((line) => `${line}\n`).join(''))
      .digest('hex');
  const lastLineOf = (text: string) => text.split('\n').at(-2);

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'tenancy-export-completeness-'));
    await chmod(directory, 0o755);
    passphraseFile = path.join(directory, 'passphrase');
    await writeFile(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o600 });
    app = await startTestApp();
    const tenant = await request(app.server)
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: `Complete ${randomUUID()}` })
      .expect(201);
    const T = `/v1/tenants/${tenant.body.tenantId}`;
    // More than a write stream's buffer of NDJSON, so that a failing file fails part way.
    await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        request(app.server)
          .post(`${T}/workspaces`)
          .set(AUTH)
          .send({ name: `Room ${index}` })
          .expect(201),
      ),
    );
    for (const userId of ['ada@example.com', 'grace@example.com', 'edsger@example.com'])
      await request(app.server)
        .put(`${T}/members/${userId}`)
        .set(AUTH)
        .send({ displayName: userId })
        .expect(201);
    await request(app.server).post(`${T}/members/edsger@example.com/erase`).set(AUTH).expect(200);

    exportFile = path.join(directory, 'all.ndjson');
    const exported = await tenancy([
      'export',
      '--all',
      '--out',
      exportFile,
      '--keys-passphrase-file',
      passphraseFile,
    ]);
    expect(exported.code).toBe(0);
    lines = (await readFile(exportFile, 'utf8')).split('\n').filter((line) => line !== '');
    target = await createTestDatabase();
  }, 120_000);
  afterAll(async () => {
    await target?.drop();
    await app?.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('ends every export with a line that counts its events, erasures and keys: stdout, --out, --tenant, --all, --raw', async () => {
    const tenantId = (JSON.parse(lines.find(isEvent)!) as ExportedEvent).data.tenantId as string;
    const out = path.join(directory, 'tenant.ndjson');
    const runs = {
      '--all --out': await readFile(exportFile, 'utf8'),
      '--all': (await tenancy(['export', '--all'])).stdout,
      '--all --raw': (await tenancy(['export', '--all', '--raw'])).stdout,
      '--tenant --out': await tenancy(['export', '--tenant', tenantId, '--out', out]).then(() =>
        readFile(out, 'utf8'),
      ),
    };
    for (const [args, text] of Object.entries(runs)) {
      const all = text.split('\n').filter((line) => line !== '');
      const count = (key: string) => all.filter((line) => line.startsWith(`{"${key}":`)).length;
      expect({ args, last: JSON.parse(all.at(-1)!) }).toEqual({
        args,
        last: {
          exportEnd: {
            events: all.filter(isEvent).length,
            personalDataErasures: count('personalDataErasure'),
            personalDataKeys: count('personalDataKey'),
            sha256: sha256OfLines(all.slice(0, -1)),
          },
        },
      });
      expect(all.filter(isEvent).length).toBeGreaterThan(60);
      expect(count('personalDataErasure')).toBe(1);
    }
    expect(JSON.parse(lines.at(-1)!)).toEqual({
      exportEnd: {
        events: expect.any(Number),
        personalDataErasures: 1,
        personalDataKeys: 2,
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    });
  });

  it('refuses a file with a line changed after the export, though it still parses and adds up: exit 1, nothing imported', async () => {
    const renamed = lines.findIndex((line) => line.includes('"Room 7"'));
    expect(renamed).toBeGreaterThan(0);
    const changed = lines.map((line, index) =>
      index === renamed ? line.replace('"Room 7"', '"Room 8"') : line,
    );
    const badHash = lines.map((line, index) =>
      index === lines.length - 1 ? line.replace(/"sha256":"[0-9a-f]{64}"/, '"sha256":"not hex"') : line,
    );
    // A changed line names the file, as a file cut short does; a malformed end line, its line.
    for (const [name, content, last] of [
      [
        'changed-line.ndjson',
        changed,
        (file: string) =>
          `tenancy import: ${file}: the file's lines do not hash to its exportEnd line's sha256: ` +
          'a line was changed after the export',
      ],
      [
        'bad-sha256.ndjson',
        badHash,
        () =>
          `tenancy import: line ${lines.length}: the exportEnd line's sha256 must be 64 lowercase ` +
          'hexadecimal digits',
      ],
    ] as const) {
      const file = await writeLines(name, content);
      const run = await importInto(target, file);
      expect({ name, code: run.code, last: lastLineOf(run.stderr) }).toEqual({
        name,
        code: 1,
        last: last(file),
      });
      expect(await eventsIn(target)).toBe(0);
    }
  });

  it('still takes an end line without sha256, as exports wrote before they had one, checking its counts', async () => {
    const withoutHash = (content: readonly string[]) =>
      content.map((line) =>
        line.startsWith('{"exportEnd":') ? line.replace(/,"sha256":"[0-9a-f]{64}"/, '') : line,
      );
    const lastEvent = lines.findLastIndex(isEvent);
    const short = await writeLines(
      'older-short.ndjson',
      withoutHash(lines.filter((_, index) => index !== lastEvent)),
    );
    expect((await importInto(target, short)).code).toBe(1);
    expect(await eventsIn(target)).toBe(0);
    const older = await writeLines('older.ndjson', withoutHash(lines));
    expect(older).not.toEqual(exportFile);
    const database = await createTestDatabase();
    try {
      const run = await importInto(database, older);
      expect({ code: run.code, stderr: run.stderr.includes('warning') }).toEqual({ code: 0, stderr: false });
      expect(await eventsIn(database)).toBe(lines.filter(isEvent).length);
    } finally {
      await database.drop();
    }
  });

  it('refuses a file cut short at a line boundary: exit 1, one line naming the file, nothing imported', async () => {
    const firstKey = lines.findIndex((line) => line.startsWith('{"personalDataKey":'));
    for (const [name, kept] of [
      ['without-end-line.ndjson', lines.slice(0, -1)],
      ['without-keys.ndjson', lines.slice(0, firstKey)],
      ['half.ndjson', lines.slice(0, Math.floor(lines.length / 2))],
      ['empty.ndjson', []],
    ] as const) {
      const file = await writeLines(name, kept);
      const run = await importInto(target, file);
      expect({ name, code: run.code, stdout: run.stdout, last: lastLineOf(run.stderr) }).toEqual({
        name,
        code: 1,
        stdout: '',
        last:
          `tenancy import: ${file}: the file ends without its exportEnd line: it was cut short (an export ` +
          'that was stopped, a full disk, a partial copy), or written before exports had one (then give ' +
          '--without-end-line)',
      });
      expect(await eventsIn(target)).toBe(0);
    }
  });

  it('refuses a file whose end line disagrees with what it holds, or is not its last line', async () => {
    const end = lines.at(-1)!;
    const { events } = (JSON.parse(end) as { exportEnd: { events: number } }).exportEnd;
    // The last event line: the end of its stream, so no revision is missing after it.
    const lastEvent = lines.findLastIndex(isEvent);
    const cases = [
      [
        'missing-event.ndjson',
        lines.filter((_, index) => index !== lastEvent),
        'the file does not add up to its exportEnd line ' +
          `(events: ${events} on the end line, ${events - 1} in the file): lines are missing or were added`,
      ],
      [
        'missing-erasure.ndjson',
        lines.filter((line) => !line.startsWith('{"personalDataErasure":')),
        'the file does not add up to its exportEnd line ' +
          '(personalDataErasures: 1 on the end line, 0 in the file): lines are missing or were added',
      ],
      [
        'line-after-end.ndjson',
        [...lines, lines.at(-2)!],
        `line ${lines.length}: the exportEnd line must be the last line of the file`,
      ],
      [
        'two-exports.ndjson',
        [...lines, ...lines],
        `line ${lines.length}: the exportEnd line must be the last line of the file`,
      ],
    ] as const;
    for (const [name, content, reason] of cases) {
      const file = await writeLines(name, content);
      const run = await importInto(target, file);
      expect({ name, code: run.code, last: lastLineOf(run.stderr) }).toEqual({
        name,
        code: 1,
        last: `tenancy import: ${file}: ${reason}`,
      });
      expect(await eventsIn(target)).toBe(0);
    }
    // A file that has the line is checked with --without-end-line too.
    const [name, , reason] = cases[0];
    const run = await importInto(target, path.join(directory, name), '--without-end-line');
    expect({ code: run.code, last: lastLineOf(run.stderr) }).toEqual({
      code: 1,
      last: `tenancy import: ${path.join(directory, name)}: ${reason}`,
    });
    expect(await eventsIn(target)).toBe(0);
  });

  it('imports a file without end line, written before exports had one, only with --without-end-line, and warns', async () => {
    const old = await writeLines('old.ndjson', lines.slice(0, -1));
    const database = await createTestDatabase();
    try {
      const run = await importInto(database, old, '--without-end-line');
      expect(run.code).toBe(0);
      const events = lines.filter(isEvent).length;
      expect(run.stderr.split('\n').filter((line) => /imported|warning/.test(line))).toEqual([
        `tenancy import: warning: ${old} has no exportEnd line: whether it is complete cannot be checked`,
        `imported ${events} events from ${old}`,
      ]);
      expect(await eventsIn(database)).toBe(events);
    } finally {
      await database.drop();
    }
  });

  it('imports the intact file, with or without --without-end-line, as the same history', async () => {
    const source = await app.database.pool.query<{ id: string }>(
      "SELECT event_id AS id FROM events WHERE stream_name LIKE 'tenant%' ORDER BY global_position",
    );
    for (const extra of [[], ['--without-end-line']]) {
      const database = await createTestDatabase();
      try {
        const run = await importInto(database, exportFile, ...extra);
        expect({ extra, code: run.code, warnings: run.stderr.match(/warning/g) }).toEqual({
          extra,
          code: 0,
          warnings: null,
        });
        const { rows } = await database.pool.query<{ id: string }>(
          'SELECT event_id AS id FROM events ORDER BY global_position',
        );
        expect(rows).toEqual(source.rows);
      } finally {
        await database.drop();
      }
    }
  });

  it('completes an import that was stopped part way: the events already in the store are skipped', async () => {
    const database = await createTestDatabase();
    try {
      // What an import stopped after its first appends leaves: the file's first events, in its order.
      const store = new PostgresEventStore(database.pool, database.url);
      const first = lines
        .filter(isEvent)
        .slice(0, 25)
        .map((line) => JSON.parse(line) as ExportedEvent);
      for (const line of first)
        await store.appendToStream(
          line.streamName,
          [{ id: line.id, type: line.type, data: line.data, metadata: line.metadata }],
          line.revision === 0 ? 'no_stream' : line.revision - 1,
        );
      const run = await importInto(database, exportFile);
      expect({ code: run.code, last: lastLineOf(run.stderr) }).toEqual({
        code: 0,
        last:
          `imported ${lines.filter(isEvent).length - 25} events from ${exportFile} (its first 25 were in ` +
          'the store already, from an import that was stopped)',
      });
      expect(await eventsIn(database)).toBe(lines.filter(isEvent).length);
    } finally {
      await database.drop();
    }
  });

  it('names the file when writing it fails part way (a full disk)', async () => {
    const run = await tenancy(['export', '--all', '--out', '/dev/full']);
    expect({ code: run.code, stdout: run.stdout, last: lastLineOf(run.stderr) }).toEqual({
      code: 1,
      stdout: '',
      last: 'tenancy export: cannot write /dev/full: ENOSPC: no space left on device',
    });
    expect(run.stderr).not.toMatch(/Unhandled|^\s+at /m);
  });

  it('says so when standard output fails part way (a full disk under `export > file`), instead of ending quietly as for a closed pipe', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const cli = spawn(process.execPath, ['bin/tenancy.js', 'export', '--all'], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: app.database.url },
        stdio: ['ignore', full, 'pipe'],
      });
      let stderr = '';
      cli.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const code = await new Promise<number | null>((resolve) => cli.once('close', resolve));
      // After its progress, one line in its own name and no stack.
      expect({ code, last: lastLineOf(stderr) }).toEqual({
        code: 1,
        last: 'tenancy export: cannot write standard output: ENOSPC: no space left on device',
      });
      expect(stderr.split('\n').filter((line) => line.startsWith('tenancy '))).toHaveLength(1);
      expect(stderr).not.toMatch(/Unhandled|^\s+at /m);
    } finally {
      closeSync(full);
    }
  });
});

import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import request from 'supertest';
import { withDatabase } from '../../src/database/database-urls.js';
import { PROJECT_ROOT } from '../support/service-process.js';
import { runOnATerminal } from '../support/terminal.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, testServerUrl, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `tenancy` as an auditor's script runs it: a process whose exit code says what happened (0 ok,
 * 1 failure or difference, 2 usage), whatever libraries it loads.
 */
describe('the tenancy CLI as a process', () => {
  let app: TestApp;
  let tenantId: string;
  let directory: string;

  const tenancy = (
    args: string[],
    env: Record<string, string> = { DATABASE_URL: app.database.url },
  ): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ['bin/tenancy.js', ...args],
        { cwd: PROJECT_ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env } },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'tenancy-cli-process-'));
    // Run as root, the embedded PostgreSQL runs as the postgres user, who must reach its data.
    await chmod(directory, 0o755);
    app = await startTestApp();
    const tenant = await request(app.server)
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: `Cli ${randomUUID()}` });
    tenantId = tenant.body.tenantId;
    const workspace = await request(app.server)
      .post(`/v1/tenants/${tenant.body.tenantId}/workspaces`)
      .set(AUTH)
      .send({ name: 'Audited' });
    expect(workspace.status).toBe(201);
    const member = await request(app.server)
      .put(`/v1/tenants/${tenantId}/members/ada@example.com`)
      .set(AUTH)
      .send({ displayName: 'Ada' });
    expect(member.status).toBe(201);
    await waitFor(async () => {
      const { rowCount } = await app.database.pool.query(
        'SELECT 1 FROM read_model.workspaces WHERE workspace_id = $1',
        [workspace.body.workspaceId],
      );
      return rowCount === 1;
    }, 10_000);
  });
  afterAll(async () => {
    await app?.close();
    // Should an embedded PostgreSQL have outlived its CLI, it goes with the test that started it.
    const pidFile = path.join(directory, 'embedded', 'postgres', 'postmaster.pid');
    if (existsSync(pidFile)) {
      process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT');
      await waitFor(async () => !existsSync(pidFile), 30_000);
    }
    await rm(directory, { recursive: true, force: true });
  });

  it('exits 2 for an unknown command, no command, or a missing option', async () => {
    for (const args of [
      ['no-such-command'],
      [],
      ['history'],
      ['history', '--tenant', 'not-a-uuid'],
      ['verify', '--bogus'],
    ]) {
      const run = await tenancy(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
    }
  });

  it('exits 2 for an audit limit or time that is not written as the help says, rather than reading it some other way', async () => {
    for (const [option, value, message] of [
      ['--limit', '0x10', '--limit must be a positive integer'],
      ['--limit', '1e3', '--limit must be a positive integer'],
      ['--limit', ' 5', '--limit must be a positive integer'],
      ['--since', '5', '--since must be an ISO 8601 time'],
      ['--since', 'March 7', '--since must be an ISO 8601 time'],
    ] as const) {
      const run = await tenancy(['audit', '--tenant', tenantId, option, value]);
      expect({ value, code: run.code, stdout: run.stdout, first: run.stderr.split('\n')[0] }).toEqual({
        value,
        code: 2,
        stdout: '',
        first: `tenancy audit: ${message}`,
      });
    }
    const dated = await tenancy(['audit', '--tenant', tenantId, '--since', '2000-01-01', '--limit', '2']);
    expect(dated.code).toBe(0);
  });

  it('exits 2 for a passphrase file whose passphrase is too short, before reading or writing anything', async () => {
    const passphraseFile = path.join(directory, 'short-passphrase');
    await writeFile(passphraseFile, 'too short\n', { mode: 0o600 });
    const out = path.join(directory, 'short.ndjson');
    for (const args of [
      ['export', '--tenant', tenantId, '--out', out, '--keys-passphrase-file', passphraseFile],
      ['import', out, '--keys-passphrase-file', passphraseFile],
    ]) {
      const run = await tenancy(args);
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({
        args,
        code: 2,
        stderr: expect.stringContaining('the passphrase must have at least 16 characters'),
      });
    }
    expect(await readdir(directory)).not.toContain('short.ndjson');
  });

  it('exits 0 for help', async () => {
    expect((await tenancy(['--help'])).code).toBe(0);
  });

  it('verify drops the scratch schemas of runs that were killed, and leaves a running one alone', async () => {
    const schemas = async () =>
      (
        await app.database.pool.query<{ name: string }>(
          `SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'read_model_verify_%' ORDER BY 1`,
        )
      ).rows.map((row) => row.name);
    // What a verify killed in the middle (SIGINT, SIGTERM, kill -9) left behind, and one still running.
    const abandoned = 'read_model_verify_4001_1700000000000';
    const running = 'read_model_verify_4002_1700000000000';
    await app.database.pool.query(`SELECT rm_create_schema($1), rm_create_schema($2)`, [abandoned, running]);
    const holder = await app.database.pool.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(hashtext('tenancy-verify'), hashtext($1))`, [running]);
      const run = await tenancy(['verify']);
      expect(run.code).toBe(0);
      expect(await schemas()).toEqual([running]);
    } finally {
      await holder.query(`SELECT pg_advisory_unlock_all()`);
      holder.release();
      await app.database.pool.query(`DROP SCHEMA IF EXISTS ${running} CASCADE`);
    }
  });

  it('replay refuses to run beside another replay of the same database, and changes nothing', async () => {
    const other = await app.database.pool.connect();
    try {
      await other.query(`SELECT pg_advisory_lock(hashtext('tenancy-replay'), 0)`);
      const run = await tenancy(['replay', '--fresh']);
      expect({ code: run.code, stdout: run.stdout, lastLine: run.stderr.split('\n').at(-2) }).toEqual({
        code: 1,
        stdout: '',
        lastLine:
          'tenancy replay: another replay of this database is running; run it again once that one is done',
      });
      const { rowCount } = await app.database.pool.query(
        `SELECT 1 FROM pg_namespace WHERE nspname = 'read_model_replay'`,
      );
      expect(rowCount).toBe(0);
    } finally {
      await other.query(`SELECT pg_advisory_unlock_all()`);
      other.release();
    }
  });

  it('verify exits 0 on matching read models and 1 once a row was tampered with', async () => {
    const clean = await tenancy(['verify']);
    expect(clean.stdout).toMatch(/read models match the event log/);
    expect(clean.code).toBe(0);

    await app.database.pool.query(`UPDATE read_model.workspaces SET name = 'tampered' WHERE NOT is_root`);
    const tampered = await tenancy(['verify']);
    expect(tampered.stdout).toMatch(/read models DIFFER/);
    expect(tampered.code).toBe(1);
  });

  it('read-only commands change no schema: on a database without one, or with one behind, they exit 1 and leave it as it was', async () => {
    const bare = `tenancy_bare_${randomUUID().replaceAll('-', '')}`;
    const admin = new pg.Client({ connectionString: testServerUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${bare}`);
    const url = withDatabase(testServerUrl(), bare);
    const unknown = randomUUID();
    const tables = async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ tables: number }>(
          "SELECT count(*)::int AS tables FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
        );
        return rows[0]!.tables;
      } finally {
        await client.end();
      }
    };
    try {
      for (const args of [
        ['verify'],
        ['history', '--tenant', unknown],
        ['audit', '--tenant', unknown],
        ['export', '--all'],
      ]) {
        const run = await tenancy(args, { DATABASE_URL: url });
        expect({ args, code: run.code, stdout: run.stdout, lastLine: run.stderr.split('\n').at(-2) }).toEqual(
          {
            args,
            code: 1,
            stdout: '',
            lastLine: `tenancy ${args[0]}: the database holds no tenancy schema: start the service on it (it applies the migrations) or run \`npm run migrate\``,
          },
        );
      }
      expect(await tables()).toBe(0);

      // Replay builds read models, so it brings the schema up to date first; with one migration
      // then marked as not applied, the schema is behind this version and verify says which.
      expect((await tenancy(['replay'], { DATABASE_URL: url })).code).toBe(0);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query<{ name: string }>(
        'DELETE FROM schema_migrations WHERE id = (SELECT max(id) FROM schema_migrations) RETURNING name',
      );
      await client.end();
      const behind = await tenancy(['verify'], { DATABASE_URL: url });
      expect({ code: behind.code, lastLine: behind.stderr.split('\n').at(-2) }).toEqual({
        code: 1,
        lastLine: `tenancy verify: the database's tenancy schema is behind this version (not applied: ${rows[0]!.name}): start the service on it (it applies the migrations) or run \`npm run migrate\``,
      });
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${bare} WITH (FORCE)`);
      await admin.end();
    }
  }, 60_000);

  it("export piped into a reader that stops early (`| head -1`) ends quietly, with the shell's code for a closed pipe", async () => {
    // More than a pipe's buffer of NDJSON, so the export is still writing when the reader goes.
    const T = `/v1/tenants/${tenantId}`;
    for (let batch = 0; batch < 20; batch++)
      await Promise.all(
        Array.from({ length: 25 }, (_, index) =>
          request(app.server)
            .post(`${T}/workspaces`)
            .set(AUTH)
            .send({ name: `Piped ${batch}-${index}` })
            .expect(201),
        ),
      );
    const cli = spawn(process.execPath, ['bin/tenancy.js', 'export', '--all'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: app.database.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    let firstLine = '';
    cli.stdout.once('data', (chunk: Buffer) => {
      firstLine = chunk.toString('utf8').split('\n')[0] ?? '';
      cli.stdout.destroy();
    });
    const code = await new Promise<number | null>((resolve) =>
      cli.once('close', (exitCode) => resolve(exitCode)),
    );
    expect(JSON.parse(firstLine)).toMatchObject({ position: expect.any(String) });
    // 128 + SIGPIPE, as a shell reports `cat big-file | head -1`; no error line, no stack.
    expect({ code, stderr: stderr.split('\n').filter((line) => line.startsWith('tenancy')) }).toEqual({
      code: 141,
      stderr: [],
    });
  }, 60_000);

  it("verify with standard error piped into a reader that has gone (`2>&1 | true`) ends quietly, with the shell's code for a closed pipe", async () => {
    const cli = spawn(process.execPath, ['bin/tenancy.js', 'verify'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: app.database.url },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // The reader goes before the first line: every write to standard error fails (EPIPE).
    cli.stderr.destroy();
    const code = await new Promise<number | null>((resolve) =>
      cli.once('exit', (exitCode) => resolve(exitCode)),
    );
    expect(code).toBe(141);
  }, 60_000);

  describe('export to a file it cannot write', () => {
    const missing = () => path.join(directory, 'no-such-directory', 'tenant.ndjson');

    /** The usual one-line failure after the log lines: no stack, no crash dump, nothing on standard output. */
    const expectOneLineFailure = (run: Run) => {
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).not.toMatch(/Unhandled|^\s+at /m);
      expect(run.stderr.split('\n').filter((line) => line.startsWith('tenancy export:'))).toEqual([
        `tenancy export: cannot write ${missing()}: ENOENT: no such file or directory`,
      ]);
      expect(run.stderr.endsWith('no such file or directory\n')).toBe(true);
    };

    it('exits 1 with one line naming the file, and writes nothing', async () => {
      expectOneLineFailure(await tenancy(['export', '--tenant', tenantId, '--out', missing()]));
      expect(existsSync(path.dirname(missing()))).toBe(false);
    });

    it('leaves no embedded PostgreSQL running', async () => {
      const dataDir = path.join(directory, 'embedded');
      const run = await tenancy(['export', '--tenant', tenantId, '--out', missing()], {
        DATABASE_URL: '',
        TENANCY_DATA_DIR: dataDir,
      });
      expectOneLineFailure(run);
      expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    }, 120_000);
  });

  it('stopped by Ctrl-C, SIGTERM or a hang-up, exits 130, 143 or 129 and leaves no partial file, no embedded PostgreSQL and no temporary file', async () => {
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
      ['SIGHUP', 129],
    ] as const) {
      const dataDir = path.join(directory, `interrupted-${signal}`);
      const outDir = path.join(directory, `interrupted-out-${signal}`);
      // The run's own temporary directory, reachable by the postgres user as the data is.
      const tmpDir = path.join(directory, `interrupted-tmp-${signal}`);
      await mkdir(outDir);
      await mkdir(tmpDir, { mode: 0o755 });
      const cli = spawn(
        process.execPath,
        ['bin/tenancy.js', 'export', '--all', '--out', path.join(outDir, 'all.ndjson')],
        {
          cwd: PROJECT_ROOT,
          env: {
            ...process.env,
            NODE_OPTIONS: '',
            DATABASE_URL: '',
            TENANCY_DATA_DIR: dataDir,
            TMPDIR: tmpDir,
          },
          stdio: 'ignore',
        },
      );
      // As a shell reports it: the exit code, or 128 and the signal's number for a death by the signal.
      const exited = new Promise<number>((resolve) =>
        cli.once('exit', (exitCode, killedBy) =>
          resolve(exitCode ?? 128 + (killedBy ? os.constants.signals[killedBy] : 0)),
        ),
      );
      // The output file is open from the start; the run is still starting its own PostgreSQL.
      const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
      await waitFor(async () => existsSync(pidFile) && (await readdir(outDir)).length > 0, 60_000, 10);
      cli.kill(signal);
      expect({ signal, code: await exited }).toEqual({ signal, code });
      try {
        expect(await readdir(outDir)).toEqual([]);
        // The signal lands while the new cluster is initialised (initdb's own server writes the pid
        // file): the file that hands initdb its password goes all the same.
        expect({
          signal,
          left: (await readdir(tmpDir)).filter((name) => name.startsWith('tenancy-pg-init-')),
        }).toEqual({
          signal,
          left: [],
        });
        await waitFor(async () => !existsSync(pidFile), 15_000);
      } finally {
        // One left behind goes with the test.
        if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT');
      }
    }
  }, 180_000);

  it('run in a terminal that is closed (SIGHUP), exits 129 as a hang-up, not in a crash, and leaves no embedded PostgreSQL or partial file', async () => {
    const dataDir = path.join(directory, 'closed-terminal');
    const outDir = path.join(directory, 'closed-terminal-out');
    await mkdir(outDir);
    const terminal = runOnATerminal(
      process.execPath,
      ['bin/tenancy.js', 'export', '--all', '--out', path.join(outDir, 'all.ndjson')],
      { ...process.env, NODE_OPTIONS: '', DATABASE_URL: '', TENANCY_DATA_DIR: dataDir },
    );
    const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
    try {
      await waitFor(async () => existsSync(pidFile) && (await readdir(outDir)).length > 0, 60_000, 10);
      terminal.close();
      expect(await terminal.exited).toBe(129);
      expect(await readdir(outDir)).toEqual([]);
      await waitFor(async () => !existsSync(pidFile), 15_000);
    } finally {
      terminal.kill();
      if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT');
    }
  }, 120_000);

  it('import of a file it cannot read exits 1 with one line naming the file, before opening the store', async () => {
    const missing = path.join(directory, 'no-such-export.ndjson');
    for (const [file, reason] of [
      [missing, 'ENOENT: no such file or directory'],
      [directory, 'EISDIR: illegal operation on a directory'],
    ] as const) {
      const run = await tenancy(['import', file], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
      expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({
        code: 1,
        stdout: '',
        stderr: `tenancy import: cannot read ${file}: ${reason}\n`,
      });
    }
  });

  it('export and audit refuse an unknown tenant like history does: exit 1, and no file', async () => {
    const unknown = randomUUID();
    const out = path.join(directory, 'unknown.ndjson');
    for (const args of [
      ['export', '--tenant', unknown],
      ['export', '--tenant', unknown, '--out', out],
    ]) {
      const run = await tenancy(args);
      expect({ args, code: run.code, stdout: run.stdout, lastLine: run.stderr.split('\n').at(-2) }).toEqual({
        args,
        code: 1,
        stdout: '',
        lastLine: `No tenant ${unknown} in the event store.`,
      });
      expect(run.stderr).not.toMatch(/exported/);
    }
    expect(await readdir(directory)).not.toContain('unknown.ndjson');
    for (const args of [
      ['history', '--tenant', unknown],
      ['audit', '--tenant', unknown],
    ]) {
      const run = await tenancy(args);
      expect({ args, code: run.code, lastLine: run.stderr.split('\n').at(-2) }).toEqual({
        args,
        code: 1,
        lastLine: `No tenant ${unknown} in the event store.`,
      });
    }
  });

  it('export shows its progress on standard error, a bar for one tenant and a count for the whole log', async () => {
    const tenant = await tenancy([
      'export',
      '--tenant',
      tenantId,
      '--out',
      path.join(directory, 'one.ndjson'),
    ]);
    expect(tenant.code).toBe(0);
    const events = readFileSync(path.join(directory, 'one.ndjson'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{"position"')).length;
    expect(tenant.stderr).toMatch(new RegExp(`^exporting \\[.*\\] 100% ${events}/${events} events`, 'm'));
    const all = await tenancy(['export', '--all']);
    expect(all.code).toBe(0);
    const lines = all.stdout.split('\n').filter((line) => line.startsWith('{"position"')).length;
    expect(all.stderr).toMatch(new RegExp(`^exporting ${lines} events`, 'm'));
  });

  it("history refuses --at a position after the log's last event (exit 1), as the feed does; a time after it is the tenant as it is now", async () => {
    const past = await tenancy([
      'history',
      '--tenant',
      tenantId,
      '--at',
      'ffffffffffffffff-ffffffffffffffff',
    ]);
    expect({ code: past.code, stdout: past.stdout, lastLine: past.stderr.split('\n').at(-2) }).toEqual({
      code: 1,
      stdout: '',
      lastLine:
        'tenancy history: --at ffffffffffffffff-ffffffffffffffff is after the last event of the log: a position from another database, or from before a restore?',
    });
    const later = await tenancy(['history', '--tenant', tenantId, '--at', '2999-01-01T00:00:00Z', '--json']);
    const now = await tenancy(['history', '--tenant', tenantId, '--json']);
    expect({ code: later.code, tenant: JSON.parse(later.stdout) }).toEqual({
      code: 0,
      tenant: JSON.parse(now.stdout),
    });
  });

  describe('import of a damaged file', () => {
    let target: TestDatabase;
    let passphraseFile: string;
    let lines: string[];

    const imported = async (database = target) => {
      const { rows } = await database.pool.query<{ events: number; keys: number }>(
        `SELECT (SELECT count(*)::int FROM events) AS events, (SELECT count(*)::int FROM personal_data_keys) AS keys`,
      );
      return rows[0];
    };
    const importFile = async (name: string, text: string, database = target, ...extra: string[]) => {
      const file = path.join(directory, name);
      await writeFile(file, text);
      return tenancy(['import', file, '--keys-passphrase-file', passphraseFile, ...extra], {
        DATABASE_URL: database.url,
      });
    };

    beforeAll(async () => {
      target = await createTestDatabase();
      passphraseFile = path.join(directory, 'passphrase');
      await writeFile(passphraseFile, 'a passphrase long enough\n', { mode: 0o600 });
      const out = path.join(directory, 'whole.ndjson');
      const exported = await tenancy([
        'export',
        '--all',
        '--out',
        out,
        '--keys-passphrase-file',
        passphraseFile,
      ]);
      expect(exported.code).toBe(0);
      lines = readFileSync(out, 'utf8').split('\n').slice(0, -1);
      expect(lines.filter((line) => line.startsWith('{"personalDataKey"'))).not.toEqual([]);
    });
    afterAll(async () => {
      await target?.drop();
    });

    it('is refused with one line before anything is imported, and the intact file then imports', async () => {
      const events = lines.filter((line) => line.startsWith('{"position"'));
      const middle = lines.indexOf(events[Math.floor(events.length / 2)]!);
      const newer = JSON.parse(lines[middle]!) as { metadata: Record<string, unknown> };
      newer.metadata.schemaVersion = 99;
      const key = lines.findLastIndex((line) => line.startsWith('{"personalDataKey"'));
      const damaged: Record<string, string[]> = {
        'cut in the middle of a line': [...lines.slice(0, middle), lines[middle]!.slice(0, 40)],
        'a line repeated': [...lines.slice(0, middle + 1), ...lines.slice(middle)],
        'two lines swapped': [
          ...lines.slice(0, middle),
          lines[middle + 1]!,
          lines[middle]!,
          ...lines.slice(middle + 2),
        ],
        'an event of a schema version this service cannot read': [
          ...lines.slice(0, middle),
          JSON.stringify(newer),
          ...lines.slice(middle + 1),
        ],
        'a wrapped key altered': [
          ...lines.slice(0, key),
          lines[key]!.replace(/"wrappedKey":"(.)/, (_, c) => `"wrappedKey":"${c === 'A' ? 'B' : 'A'}`),
          ...lines.slice(key + 1),
        ],
      };
      for (const [damage, text] of Object.entries(damaged)) {
        const run = await importFile('damaged.ndjson', `${text.join('\n')}\n`);
        const failures = run.stderr.split('\n').filter((line) => line.startsWith('tenancy import:'));
        expect({ damage, code: run.code, failures: failures.length, imported: await imported() }).toEqual({
          damage,
          code: 1,
          failures: 1,
          imported: { events: 0, keys: 0 },
        });
      }
      const intact = await importFile('intact.ndjson', `${lines.join('\n')}\n`);
      expect(intact.code).toBe(0);
      expect(await imported()).toEqual({
        events: lines.filter((line) => line.startsWith('{"position"')).length,
        keys: lines.filter((line) => line.startsWith('{"personalDataKey"')).length,
      });
    }, 60_000);

    it('cut short part way, is completed by running it again; a store holding other events is still refused', async () => {
      const store = await createTestDatabase();
      try {
        const events = lines.filter((line) => line.startsWith('{"position"'));
        // What an import stopped part way (Ctrl-C, kill -9, a lost connection) leaves: the file's first events.
        const cut = lines.indexOf(events[Math.floor(events.length / 2)]!);
        const firstHalf = `${lines.slice(0, cut).join('\n')}\n`;
        expect((await importFile('first-half.ndjson', firstHalf, store, '--without-end-line')).code).toBe(0);
        const again = await importFile('intact.ndjson', `${lines.join('\n')}\n`, store);
        expect({ code: again.code, imported: await imported(store) }).toEqual({
          code: 0,
          imported: {
            events: events.length,
            keys: lines.filter((line) => line.startsWith('{"personalDataKey"')).length,
          },
        });
        const other = await importFile(
          'other.ndjson',
          `${lines
            .slice(1)
            .filter((line) => line.includes(`"tenant-${tenantId}"`))
            .join('\n')}\n`,
          store,
        );
        expect({ code: other.code, lastLine: other.stderr.split('\n').at(-2) }).toEqual({
          code: 1,
          lastLine: expect.stringMatching(/^tenancy import: the event store already holds tenancy events/),
        });
        expect(await imported(store)).toMatchObject({ events: events.length });
      } finally {
        await store.drop();
      }
    }, 60_000);
  });
});

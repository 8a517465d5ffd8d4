import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { scratchDir, useCleanups } from '../faults/fault-kit.js';
import { PROCESS_OPERATOR_KEY, PROJECT_ROOT, spawnServiceProcess } from '../support/service-process.js';
import { createTestDatabase } from '../support/test-database.js';

/**
 * Settings the machine refuses end the start at once (exit 1) with one fatal line that says what
 * failed and which setting puts it right, not a bare system error.
 *
 * The service writes to its data directory (TENANCY_DATA_DIR) only for what it was not given: the
 * operator key it generates when TENANCY_OPERATOR_KEY is not set, the embedded PostgreSQL when
 * DATABASE_URL is not. A directory it cannot write there (a read-only volume, a path through a
 * file) ends the start, exit 1, with one fatal line that says what it tried to write and which
 * settings put it right, not a bare system error.
 */
describe('a data directory the service cannot write', () => {
  const cleanup = useCleanups();

  /** A data directory path that runs through a file: no user, root included, can create it. */
  const throughAFile = async (): Promise<string> => {
    const scratch = scratchDir(cleanup, 'tenancy-unwritable');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(scratch);
    await writeFile(path.join(scratch, 'a-file'), '');
    return path.join(scratch, 'a-file', 'data');
  };

  const fatalOf = async (env: Record<string, string>) => {
    const service = spawnServiceProcess({ env });
    cleanup(async () => service.child.kill('SIGKILL'));
    const code = await service.exited;
    const fatal = service
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .filter((entry) => entry.level === 'fatal');
    return { code, fatal: fatal.map((entry) => entry.msg) };
  };

  it('for the operator key it generates: names the file, TENANCY_OPERATOR_KEY and TENANCY_DATA_DIR', async () => {
    const dataDir = await throughAFile();
    const database = await createTestDatabase();
    cleanup(() => database.drop());

    const { code, fatal } = await fatalOf({
      DATABASE_URL: database.url,
      TENANCY_OPERATOR_KEY: '',
      TENANCY_DATA_DIR: dataDir,
    });

    expect(code).toBe(1);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toContain(
      `the service could not start: the operator key generated for this run cannot be written to ${path.join(dataDir, 'operator-key')}`,
    );
    expect(fatal[0]).toMatch(/ENOTDIR/);
    expect(fatal[0]).toContain(
      'set TENANCY_OPERATOR_KEY, or TENANCY_DATA_DIR to a directory this user can write',
    );
  }, 60_000);

  it('for the embedded PostgreSQL: names its directory, TENANCY_DATA_DIR and DATABASE_URL', async () => {
    const dataDir = await throughAFile();

    const { code, fatal } = await fatalOf({ DATABASE_URL: '', TENANCY_DATA_DIR: dataDir });

    expect(code).toBe(1);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toContain(
      `the service could not start: the embedded PostgreSQL's data directory ${path.join(dataDir, 'postgres')} cannot be created`,
    );
    expect(fatal[0]).toMatch(/ENOTDIR/);
    expect(fatal[0]).toContain(
      'set TENANCY_DATA_DIR to a directory this user can write, or DATABASE_URL to a PostgreSQL server',
    );
  }, 60_000);
});

describe('a port the system will not give', () => {
  const cleanup = useCleanups();

  it('one another process holds: names the port and PORT, exit 1', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, resolve));
    cleanup(() => new Promise((resolve) => holder.close(resolve)));
    const port = (holder.address() as { port: number }).port;
    const database = await createTestDatabase();
    cleanup(() => database.drop());

    const service = spawnServiceProcess({ env: { DATABASE_URL: database.url, PORT: String(port) } });
    cleanup(async () => service.child.kill('SIGKILL'));

    expect(await service.exited).toBe(1);
    const entries = service
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    const fatal = entries.filter((entry) => entry.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.msg).toMatch(
      new RegExp(
        `^the service could not start: port ${port} is in use by another process ` +
          `\\(listen EADDRINUSE: address already in use \\S+:${port}\\): stop that process, or set PORT to another port$`,
      ),
    );
  }, 60_000);

  it('a privileged port for a user without the privilege: names the port and PORT, exit 1', async () => {
    // The highest port only a privileged process may bind here; the service runs as nobody (the
    // tests run as root, and a test's own user may hold the privilege).
    const port = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) - 1;
    expect(port).toBeGreaterThan(0);
    const database = await createTestDatabase();
    cleanup(() => database.drop());

    const result = spawnSync(process.execPath, ['dist/src/main.js'], {
      cwd: PROJECT_ROOT,
      uid: 65534,
      gid: 65534,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        DATABASE_URL: database.url,
        PORT: String(port),
        TENANCY_OPERATOR_KEY: PROCESS_OPERATOR_KEY,
      },
      encoding: 'utf8',
      timeout: 30_000,
    });

    expect(result.status).toBe(1);
    const fatal = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .filter((entry) => entry.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.msg).toMatch(
      new RegExp(
        `^the service could not start: port ${port} needs privileges this user does not have ` +
          `\\(listen EACCES: permission denied \\S+:${port}\\): set PORT to one above ${port}$`,
      ),
    );
  }, 60_000);
});

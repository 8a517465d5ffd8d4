import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import { listeningPortIn } from '../../src/app/listening-port.js';

const run = promisify(execFile);
const PROJECT = process.cwd();

/** What package.json says a deployment consists of (the Dockerfile copies the same). */
async function deployedFiles(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(path.join(PROJECT, 'package.json'), 'utf8')) as {
    files: string[];
  };
  return manifest.files;
}

/**
 * The production path as an operator takes it: the built output and the lock file in a fresh
 * folder, `npm ci --omit=dev` (no TypeScript, no tsx), then the service and the CLI run by node.
 */
describe('a production install', () => {
  let folder: string;
  let installTmp: string;
  let database: TestDatabase;
  let service: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'tenancy-prod-'));
    // As root, the embedded PostgreSQL runs as another user, which must reach the folder.
    await chmod(folder, 0o755);
    for (const file of ['package.json', 'package-lock.json', ...(await deployedFiles())]) {
      await cp(path.join(PROJECT, file), path.join(folder, file), { recursive: true });
    }
    // The install's own temporary directory, to see what its packages' install scripts leave there.
    installTmp = await mkdtemp(path.join(os.tmpdir(), 'tenancy-prod-install-tmp-'));
    await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: folder,
      env: { ...process.env, TMPDIR: installTmp },
      timeout: 300_000,
    });
    database = await createTestDatabase();
  }, 320_000);
  afterAll(async () => {
    service?.kill('SIGKILL');
    await database?.drop();
    await rm(folder, { recursive: true, force: true });
    await rm(installTmp, { recursive: true, force: true });
  });

  // typescript itself is still installed: npm keeps it as an optional peer of @nestjs/swagger (whose
  // build-time plugin would use it). Nothing at run time loads it.
  it('installs no development tool and no TypeScript loader', () => {
    for (const tool of ['tsx', 'jest', 'ts-jest', 'eslint', 'prettier', '@nestjs/testing']) {
      expect([tool, existsSync(path.join(folder, 'node_modules', tool))]).toEqual([tool, false]);
    }
  });

  // swagger-ui-dist (under @nestjs/swagger) depends on @scarf/scarf, whose install script posts
  // the install's dependency tree to scarf.sh unless the root package.json opts out. Opted in, it
  // first notes the time of its notice in scarf-js-history-<user>.log in the temp directory;
  // opted out, it stops before both.
  it('reports the install to no analytics service', async () => {
    expect((await readdir(installTmp)).filter((name) => name.startsWith('scarf-js-history'))).toEqual([]);
  });

  it('runs the built service with node, logging JSON from the first line, the generated key only as a file', async () => {
    const dataDir = path.join(folder, 'data');
    service = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: folder,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: database.url,
        PORT: '0',
        TENANCY_DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    service.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    await waitFor(async () => listeningPortIn(output) !== undefined, 60_000, 200);
    const base = `http://127.0.0.1:${listeningPortIn(output)}`;
    await waitFor(
      async () => (await fetch(`${base}/health/ready`).catch(() => undefined))?.status === 200,
      60_000,
      200,
    );
    const keyFile = path.join(dataDir, 'operator-key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const key = (await readFile(keyFile, 'utf8')).trim();
    expect(key.length).toBeGreaterThanOrEqual(32);
    const tenants = await fetch(`${base}/v1/tenants`, { headers: { Authorization: `Bearer ${key}` } });
    expect(tenants.status).toBe(200);
    expect((await fetch(`${base}/openapi.json`)).status).toBe(200);

    const lines = output.split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(output).toContain(keyFile);
    expect(output).not.toContain(key);
  }, 90_000);

  it('runs `npx tenancy` from the compiled CLI', async () => {
    const { stdout } = await run('npx', ['tenancy', '--help'], {
      cwd: folder,
      env: { PATH: process.env.PATH, DATABASE_URL: database.url },
    });
    expect(stdout).toMatch(/Usage: tenancy/);
  }, 60_000);
});

describe('the container recipe', () => {
  it('copies everything package.json says a deployment consists of', async () => {
    const dockerfile = await readFile(path.join(PROJECT, 'Dockerfile'), 'utf8');
    for (const entry of await deployedFiles()) {
      const folder = entry.replace(/\/$/, '');
      const copied =
        dockerfile.includes(`COPY ${folder} ./${folder}`) ||
        dockerfile.includes(`COPY --from=build /app/${folder} ./${folder}`);
      expect([entry, copied]).toEqual([entry, true]);
    }
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/src\/main.js"\]$/m);
  });
});

describe('a service started with invalid settings', () => {
  it('reports every invalid setting at once, as one JSON line without a stack trace, and starts nothing', async () => {
    const dataDir = path.join(os.tmpdir(), `tenancy-never-started-${process.pid}`);
    const shortKey = 'short-secret-key';
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: PROJECT,
      env: {
        PATH: process.env.PATH,
        PORT: 'eighty',
        TENANCY_RUN_CONSUMERS: 'flase',
        TENANCY_OPERATOR_KEY: shortKey,
        TENANCY_SSE_HEARTBEAT_MS: '1',
        LOG_LEVEL: 'loud',
        TENANCY_DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    expect({ ...exit, output: exit.code === 1 ? '' : text }).toEqual({ code: 1, signal: null, output: '' });
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0] ?? '{}') as { level: string; problems: string[] };
    expect(report.level).toBe('fatal');
    expect(report.problems.map((problem) => problem.split(' ')[0])).toEqual([
      'PORT',
      'TENANCY_OPERATOR_KEY',
      'TENANCY_RUN_CONSUMERS',
      'TENANCY_SSE_HEARTBEAT_MS',
      'LOG_LEVEL',
    ]);
    expect(text).not.toContain(shortKey);
    expect(text).not.toMatch(/\n\s+at /);
    expect(existsSync(dataDir)).toBe(false);
  }, 30_000);
});

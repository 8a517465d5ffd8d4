import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { listeningPortIn } from '../../src/app/listening-port.js';
import { sleep } from './stats.js';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');
const BUILT = path.join(PROJECT_ROOT, 'dist');
const BUILT_MAIN = path.join(BUILT, 'src', 'main.js');

/**
 * A module of the compiled build (dist/, written by buildService before any scenario runs), for a
 * scenario that runs the project's code in this process the way users run it: the service and
 * `tenancy replay` run the compiled JavaScript, not the sources through this process's TypeScript
 * loader, which took more CPU for the same replay (BENCHMARKS.md, the rebuild's observations).
 * `relative` is the source's path with .js for .ts, e.g. projections/read-model.rebuild.js.
 */
export async function importBuilt(relative: string): Promise<Record<string, unknown>> {
  const file = path.join(BUILT, relative);
  if (!existsSync(file)) throw new Error(`${file} missing: the build did not write it`);
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/**
 * Compiles the service the way `npm start` does (tsc -p tsconfig.build.json into dist/). Type errors
 * elsewhere in a tree under edit do not stop tsc from emitting; the run goes on when main.js exists
 * and reports the diagnostics as a warning.
 */
export function buildService(log: (line: string) => void): { warnings: string | undefined } {
  const tsc = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsc');
  const result = spawnSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (!existsSync(BUILT_MAIN)) {
    throw new Error(`build failed, ${BUILT_MAIN} missing:\n${result.stdout}${result.stderr}`);
  }
  if (result.status !== 0) {
    const text = `${result.stdout}${result.stderr}`.trim();
    log(`warning: tsc reported errors but emitted dist/src/main.js:\n${text}`);
    return { warnings: text.split('\n').slice(0, 5).join(' | ') };
  }
  return { warnings: undefined };
}

export interface StartedService {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  readonly pid: number;
  stop(): Promise<number | null>;
}

export interface ServiceOptions {
  readonly databaseUrl: string;
  readonly operatorKey: string;
  readonly logFile: string;
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeFlags?: readonly string[];
}

/** Starts `node dist/src/main.js` as a child process and waits for GET /health/ready to answer 200. */
export async function startService(options: ServiceOptions): Promise<StartedService> {
  const out = openSync(options.logFile, 'a');
  // The log file may hold earlier services' lines: this one's start where the file ends now.
  const logStart = statSync(options.logFile).size;
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), BUILT_MAIN], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      // The system picks the port as the service binds it (one picked here first could be taken
      // in between); the service names it in its log.
      PORT: '0',
      DATABASE_URL: options.databaseUrl,
      TENANCY_OPERATOR_KEY: options.operatorKey,
      EVENTSTORE_URL: '',
      TENANCY_DEFAULT_TENANT: '',
    },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      exited = code;
      resolve(code);
    });
  });
  const deadline = performance.now() + 60_000;
  let port: number | undefined;
  for (;;) {
    if (exited !== undefined) {
      throw new Error(`the service exited with code ${exited} before it was ready; see ${options.logFile}`);
    }
    port ??= listeningPortIn(readFileSync(options.logFile).subarray(logStart).toString('utf8'), child.pid);
    if (port !== undefined) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
        await response.arrayBuffer();
        if (response.status === 200) break;
      } catch {
        // not ready yet
      }
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service was not ready within 60 s; see ${options.logFile}`);
    }
    await sleep(100);
  }
  if (child.pid === undefined) throw new Error('the service has no pid');
  return {
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      if (exited !== undefined) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}

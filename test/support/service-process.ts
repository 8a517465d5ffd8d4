import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { listeningPortIn } from '../../src/app/listening-port.js';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');
/** Long enough for the configuration's minimum: tests use their own key per service. */
export const PROCESS_OPERATOR_KEY = `process-test-operator-key-${randomBytes(12).toString('hex')}`;

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  readonly port: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after the timeout; resolves with how it ended. */
  stop(timeoutMs?: number): Promise<number | string>;
}

export interface ServiceProcessOptions {
  readonly env: Record<string, string>;
  /** What to run: the built service (default), or the README's start command. */
  readonly command?: 'node' | 'npm-start';
  readonly readyTimeoutMs?: number;
  /** The process's limit of open files (`ulimit -n`), when it is to be lower than the test's. */
  readonly openFilesLimit?: number;
  /**
   * A small filesystem (a tmpfs of this size) at this directory, for the service alone: mounted in
   * a mount namespace of its own, gone with its last process (the embedded PostgreSQL's included).
   * Needs root (CAP_SYS_ADMIN).
   */
  readonly smallDisk?: { readonly directory: string; readonly size: string };
}

/** The service's process as spawned, before it is known to be ready (or to get there at all). */
export interface SpawnedService {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  readonly output: () => string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>;
  readonly hasExited: () => boolean;
}

/**
 * The service as users run it: a process of its own (`node dist/src/main.js`, built by the test
 * setup, or `npm start`), configured by its environment; not waited for (see startServiceProcess).
 */
export function spawnServiceProcess(options: ServiceProcessOptions): SpawnedService {
  const [command, commandArgs] =
    options.command === 'npm-start'
      ? ['npm', ['start', '--silent']]
      : [process.execPath, ['dist/src/main.js']];
  // A shell sets the limit or mounts the disk, then becomes the command (exec), as unshare does:
  // the child is still the service.
  const steps = [
    ...(options.openFilesLimit === undefined ? [] : [`ulimit -n ${options.openFilesLimit}`]),
    ...(options.smallDisk === undefined
      ? []
      : [
          `mount -t tmpfs -o size=${options.smallDisk.size} tenancy-small-disk '${options.smallDisk.directory}'`,
        ]),
  ];
  const shell = ['-c', `${steps.join(' && ')} && exec "$0" "$@"`, command, ...commandArgs];
  const [file, args]: [string, string[]] =
    steps.length === 0
      ? [command, commandArgs]
      : options.smallDisk === undefined
        ? ['/bin/sh', shell]
        : ['unshare', ['--mount', '--propagation', 'private', '/bin/sh', ...shell]];
  const child = spawn(file, args, {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      // The system picks a free port as the service binds it (a port picked here first could be
      // taken by another test's process before the service binds it); the service logs which.
      PORT: '0',
      TENANCY_OPERATOR_KEY: PROCESS_OPERATOR_KEY,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk));
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  return {
    child,
    output: () => Buffer.concat(chunks).toString('utf8'),
    exited,
    hasExited: () => hasExited,
  };
}

/** spawnServiceProcess, then waits until it is ready: /health/ready answers 200. */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const { child, output, exited, hasExited } = spawnServiceProcess(options);
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  let port: number | undefined;
  for (;;) {
    if (hasExited()) throw new Error(`the service exited before it was ready:\n${output()}`);
    port ??= listeningPortIn(output());
    if (port !== undefined && (await answersReady(port))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service was not ready in time:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    child,
    baseUrl,
    port,
    output,
    exited,
    async stop(timeoutMs = 15_000) {
      if (!hasExited()) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const how = await exited;
      clearTimeout(timer);
      return how;
    },
  };
}

async function answersReady(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** A JSON request to the service with the operator's key; never throws on a status. */
export async function call(
  service: Pick<ServiceProcess, 'baseUrl'>,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${service.baseUrl}${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${PROCESS_OPERATOR_KEY}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

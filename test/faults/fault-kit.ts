import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from '@jest/globals';

/**
 * Things a fault test starts (servers, services, directories), undone after the file's tests in
 * reverse order, whether the tests passed or not. Call at the top of a describe block.
 */
export function useCleanups(): (cleanup: () => Promise<unknown>) => void {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
}

/**
 * A fresh directory path under the temp directory, removed afterwards. Not mkdtemp: its 0700
 * directory would shut out the system user PostgreSQL runs as under root.
 */
export function scratchDir(cleanup: (cleanup: () => Promise<unknown>) => void, prefix: string): string {
  const directory = path.join(os.tmpdir(), `${prefix}-${randomBytes(6).toString('hex')}`);
  cleanup(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

/** Whether a process runs (one of another user, such as the postgres user's server, included). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { startServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait-for.js';
import { isAlive, postmaster, scratchDir, useCleanups } from './fault-kit.js';

/**
 * A bug that throws outside any request, or a promise rejected with no one to catch it, ends the
 * process, as Node ends it: its state can no longer be trusted. What the operator reads about it
 * is a line of the JSON log at fatal, with the error and where it came from, not Node's text on
 * standard error; the exit code is 1, and the embedded PostgreSQL is not left running.
 *
 * The bug is put in by a module loaded ahead of the service (`--import`), thrown on SIGUSR2.
 */
describe('an error nothing catches', () => {
  const cleanup = useCleanups();

  const bug = (how: string): string =>
    `--import=data:text/javascript,${encodeURIComponent(
      `process.on('SIGUSR2', () => setImmediate(() => { ${how} }));`,
    )}`;

  const jsonLines = (output: string) => {
    const lines = output.split('\n').filter((line) => line.length > 0);
    const notJson = lines.filter((line) => !line.startsWith('{'));
    return { notJson, entries: lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line)) };
  };

  it.each([
    ['uncaughtException', `throw new Error('a bug outside any request');`, 'a bug outside any request'],
    [
      'unhandledRejection',
      `Promise.reject(new Error('a rejection no one handles'));`,
      'a rejection no one handles',
    ],
  ])(
    '%s: one fatal JSON line naming it, exit 1, and the embedded PostgreSQL stopped',
    async (origin, how, message) => {
      const dataRoot = scratchDir(cleanup, 'tenancy-uncaught');
      const service = await startServiceProcess({
        env: { DATABASE_URL: '', TENANCY_DATA_DIR: dataRoot, NODE_OPTIONS: bug(how) },
      });
      cleanup(() => service.stop());
      const server = postmaster(path.join(dataRoot, 'postgres'));

      service.child.kill('SIGUSR2');

      expect(await service.exited).toBe(1);
      const { notJson, entries } = jsonLines(service.output());
      expect(notJson).toEqual([]);
      expect(entries.filter((entry) => entry.level === 'fatal')).toEqual([
        expect.objectContaining({
          msg: `${origin}: ${message}; exiting`,
          err: expect.objectContaining({ message }),
        }),
      ]);
      await waitFor(async () => !isAlive(server.pid), 15_000, 100);
    },
    90_000,
  );
});

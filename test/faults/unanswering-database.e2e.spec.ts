import { execFile } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { PROJECT_ROOT } from '../support/service-process.js';
import { useCleanups } from './fault-kit.js';

/**
 * A database that takes the connection and then never answers: a stopped (SIGSTOP) or hung
 * postmaster, a proxy whose backend is gone, a network that drops packets after the handshake.
 * Refused connections fail at once; these must fail too, in bounded time, not hang.
 */
describe('a database that accepts connections and never answers', () => {
  const cleanup = useCleanups();

  /** A TCP server that accepts every connection and never writes a byte. */
  const silentServer = async (): Promise<number> => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    });
    return (server.address() as net.AddressInfo).port;
  };

  it.each([['verify'], ['history', '--tenant', '00000000-0000-4000-8000-000000000000']])(
    'the CLI (%s) exits 1 with one line on stderr within 15 s',
    async (...args: string[]) => {
      const port = await silentServer();
      const startedAt = Date.now();
      const run = await new Promise<{ code: number | string | null; stdout: string; stderr: string }>(
        (resolve) => {
          execFile(
            process.execPath,
            ['bin/tenancy.js', ...args],
            {
              cwd: PROJECT_ROOT,
              env: {
                ...process.env,
                NODE_OPTIONS: '',
                DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${port}/tenancy`,
              },
              timeout: 20_000,
              killSignal: 'SIGKILL',
            },
            (error, stdout, stderr) =>
              resolve({
                code: error
                  ? ((error as { code?: number }).code ?? (error as { signal?: string }).signal ?? null)
                  : 0,
                stdout,
                stderr,
              }),
          );
        },
      );
      expect(run.code).toBe(1);
      expect(Date.now() - startedAt).toBeLessThan(15_000);
      expect(run.stderr).toMatch(new RegExp(`^tenancy ${args[0]}: .+\\n$`));
    },
    30_000,
  );
});

import { spawn } from 'node:child_process';

/**
 * Stops a server when the process that started it is gone, however it went.
 *
 * An exit hook runs on a normal exit only: not on SIGKILL, not on a signal the process has no
 * handler for (a test run stopped by `timeout`, which sends SIGTERM to its whole process group),
 * and the server, in a process group of its own, gets no signal of its own. So a small shell, in
 * a process group of its own too, waits on a pipe whose only writer is this process. The kernel
 * closes that pipe when this process ends, any way it ends; the shell then stops the server on
 * the data directory (SIGINT: PostgreSQL's fast shutdown; SIGKILL after 30 s) and, for a
 * throw-away server, removes the directory, its log and its owner file. A process that stops the
 * server itself closes the pipe too (`release`): the shell finds no server and only tidies up.
 *
 * The server's pid is read from postmaster.pid when the pipe closes (a restarted server has
 * another), and is signalled only while it is a process on that directory.
 */
const WATCH = `
cat > /dev/null
dir=$1
pid=$(head -n 1 "$dir/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
  { [ ! -d /proc ] || grep -qF -- "$dir" "/proc/$pid/cmdline" 2>/dev/null; }; then
  kill -INT "$pid"
  tries=0
  while [ -e "$dir/postmaster.pid" ] && kill -0 "$pid" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 300 ]; then kill -KILL "$pid"; break; fi
    sleep 0.1
  done
fi
if [ "$2" = remove ]; then rm -rf -- "$dir" "$dir.log" "$dir.owner"; fi
`;

export interface ServerGuard {
  /** Closes the pipe: called once this process has stopped the server itself. */
  release(): void;
}

export function guardServer(dataDir: string, after: 'remove' | 'keep'): ServerGuard {
  const watcher = spawn('/bin/sh', ['-c', WATCH, 'server-guard', dataDir, after], {
    // Out of this process's group: the signal that ends this process must not end the watcher.
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watcher.on('error', () => undefined);
  watcher.stdin.on('error', () => undefined);
  // Neither the watcher nor its pipe keeps this process running.
  watcher.unref();
  (watcher.stdin as unknown as { unref(): void }).unref();
  return { release: () => watcher.stdin.end() };
}

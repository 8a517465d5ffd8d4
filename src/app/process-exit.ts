import { closeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { isatty } from 'node:tty';

// How the service's and the CLI's process ends: the signals that stop it, the exit codes they give,
// and a terminal that hung up.

/** Which of standard input, output and error were a terminal when the process started. */
const startedOnTerminal = [0, 1, 2].map((fd) => isatty(fd));

/**
 * Node puts a terminal back into the state it found it in as the process exits, and fails an
 * assertion when the terminal refuses, as one that was closed (hung up) does: a clean stop after
 * SIGHUP, the terminal closed, ended in a crash (seen: the assertion's report, then exit 139). A
 * standard stream that was a terminal at the start and is none now is closed at exit; Node skips
 * a closed one.
 */
export function closeHungUpTerminalAtExit(): void {
  process.on('exit', () => {
    for (const fd of [0, 1, 2]) {
      if (!startedOnTerminal[fd] || isatty(fd)) continue;
      try {
        closeSync(fd);
      } catch {
        // Closed already.
      }
    }
  });
}

/**
 * What asks the service or the CLI to stop: a supervisor (SIGTERM), Ctrl-C (SIGINT), its
 * terminal closed (SIGHUP). SIGHUP is no reload here. Nor would leaving it alone honour `nohup`:
 * Node resets every signal's disposition to the default when it starts, so an ignored SIGHUP is
 * not ignored in it, and without a handler a hang-up killed the process on the spot.
 */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** The code a shell shows for a command a signal ended: 128 and its number (SIGTERM: 143). */
export function shellExitCode(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 0);
}

/**
 * A bug that throws outside any request, or a promise rejected with nothing to handle it, ends the
 * process as Node ends it: exit 1, the exit hooks run (the embedded PostgreSQL is stopped by its
 * own), since its state can no longer be trusted. But it says so in a line of the log at fatal,
 * with the error and where it came from (`uncaughtException` or `unhandledRejection`), instead of
 * Node's text of several lines on standard error.
 */
export function exitOnUncaughtError(fatal: (fields: Record<string, unknown>, line: string) => void): void {
  process.on('uncaughtException', (error: unknown, origin: string) => {
    fatal(
      { err: error, origin },
      `${origin}: ${error instanceof Error ? error.message : String(error)}; exiting`,
    );
    process.exit(1);
  });
}

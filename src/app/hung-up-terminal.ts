import { closeSync } from 'node:fs';
import { isatty } from 'node:tty';

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

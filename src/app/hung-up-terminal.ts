import { closeSync } from 'node:fs';
import { isatty } from 'node:tty';

/** Which of standard input, output and error were a terminal when the process started. */
const startedOnTerminal = [0, 1, 2].map((fd) => isatty(fd));

/**
 * Node puts a terminal back into the state it found it in as the process exits, and aborts
 * (SIGABRT, exit 134, a crash report) when the terminal refuses, as one that was closed (hung up)
 * does. So a clean stop after SIGHUP, the terminal closed, ended in that crash. A standard stream
 * that was a terminal at the start and is none now is closed at exit; Node skips a closed one.
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

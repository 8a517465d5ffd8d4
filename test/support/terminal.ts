import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './service-process.js';

/** A command on a terminal of its own, as a terminal window runs it; the test can close the terminal. */
export interface OnATerminal {
  /** Everything the command wrote to its terminal so far (lines end in \r\n there). */
  output(): string;
  /** How the command ended, as a shell reports it: its exit code, or 128 and the signal's number. */
  readonly exited: Promise<number>;
  /** Closes the terminal (a hang-up): the command, the terminal's session leader, gets SIGHUP. */
  close(): void;
  /** Kills the command and its terminal, if still there (a failed test's clean-up). */
  kill(): void;
}

/** Runs `command` on a pseudo-terminal (test/support/on-a-terminal.py, python3's pty module). */
export function runOnATerminal(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): OnATerminal {
  const helper: ChildProcess = spawn(
    'python3',
    [path.join(PROJECT_ROOT, 'test', 'support', 'on-a-terminal.py'), command, ...args],
    { cwd: PROJECT_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  helper.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  helper.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = once(helper, 'exit').then(([code]) => code as number);
  const running = () => helper.exitCode === null && helper.signalCode === null;
  return {
    output: () => output,
    exited,
    close: () => helper.stdin!.write('close\n'),
    kill: () => {
      if (!running()) return;
      for (const pid of childrenOf(helper.pid!)) process.kill(pid, 'SIGKILL');
      helper.kill('SIGKILL');
    },
  };
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

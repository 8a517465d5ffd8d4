import { execFile } from 'node:child_process';
import { PROJECT_ROOT } from './service-process.js';

/** What a `tenancy` process left: its exit code and everything it wrote. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `bin/tenancy.js` as an operator runs it: a process on the given database, its exit code kept. */
export function runTenancyProcess(args: readonly string[], databaseUrl: string): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/tenancy.js', ...args],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: databaseUrl },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

/** What the CLI said in its own name on stderr (`tenancy <command>: ...`), its progress bars left out. */
export function cliSaid(run: CliRun): string[] {
  return run.stderr.split('\n').filter((line) => line.startsWith('tenancy '));
}

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { loadConfig } from '../config/app-config.js';
import type { EventStore } from '../event-store/event-store.port.js';
import { closeHungUpTerminalAtExit, shellExitCode, STOP_SIGNALS } from '../app/process-exit.js';
import { openRuntime, type Runtime, type SchemaPolicy } from '../app/runtime.js';
import { UsageError, type CliCommand, type CliContext } from './cli-command.js';
import { exportCommand } from './commands/export.command.js';
import { historyCommand } from './commands/history.command.js';
import { importCommand } from './commands/import.command.js';
import { auditCommand } from './commands/audit.command.js';
import { replayCommand } from './commands/replay.command.js';
import { verifyCommand } from './commands/verify.command.js';
import { UnknownEventError } from '../stored-events/tenancy-event.codec.js';
import { describeRelease } from '../app/release.js';

/** Every sub-command, in the order the overview lists them. */
export const TENANCY_COMMANDS: readonly CliCommand[] = [
  replayCommand,
  verifyCommand,
  historyCommand,
  auditCommand,
  exportCommand,
  importCommand,
];

/** What the commands need of the service's runtime; the database is absent where a test hands in only a store. */
export interface CliRuntime {
  readonly eventStore: EventStore;
  readonly pool?: pg.Pool;
  close(): Promise<void>;
}

export interface CliEnvironment {
  readonly stdin: CliContext['stdin'];
  readonly stdout: CliContext['stdout'];
  readonly stderr: CliContext['stderr'];
  /**
   * Opens the service's runtime; called at most once, and only by a command that needs the store,
   * with what it may do to the database's schema (CliCommand.migrates).
   */
  openEventStore(schema: SchemaPolicy): Promise<CliRuntime>;
}

function overview(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return `Usage: tenancy <command> [options]

Operator and auditor tools that work on the event log directly. They connect like the service does:
DATABASE_URL (or the embedded PostgreSQL under TENANCY_DATA_DIR), EVENTSTORE_URL for EventStoreDB.
Only replay and import change the database's schema (they apply pending migrations); the others
refuse a database whose schema is missing or behind this version.

Commands:
${commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

Run \`tenancy <command> --help\` for a command's options, \`tenancy --version\` for this release.
`;
}

/** Parses argv, runs one command and returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function runTenancyCli(
  argv: readonly string[],
  environment: CliEnvironment,
  commands: readonly CliCommand[] = TENANCY_COMMANDS,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    // Which release, to tell it from another version's CLI or service on the same log.
    environment.stdout.write(`${describeRelease()}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    environment.stdout.write(overview(commands));
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (command === undefined) {
    environment.stderr.write(`tenancy: unknown command '${name}'\n\n${overview(commands)}`);
    return 2;
  }

  // A write that fails while no one waits on the stream (its reader closed) must not end the
  // process as an unhandled 'error' event; the command's next wait on the stream throws it.
  let outputFailure: unknown;
  const onOutputFailure = (error: unknown) => (outputFailure ??= error);
  environment.stdout.on('error', onOutputFailure);
  let runtime: CliRuntime | undefined;
  const open = async (): Promise<CliRuntime> =>
    (runtime ??= await environment.openEventStore(command.migrates === true ? 'migrate' : 'require-current'));
  const context: CliContext = {
    stdin: environment.stdin,
    stdout: environment.stdout,
    stderr: environment.stderr,
    async eventStore() {
      return (await open()).eventStore;
    },
    async database() {
      const { pool } = await open();
      if (!pool) throw new Error('this command needs the service database, which is not open here');
      return pool;
    },
  };
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.positionals === true,
      strict: true,
    });
    if (values.help === true) {
      environment.stdout.write(command.help);
      return 0;
    }
    return await command.run(values, positionals, context);
  } catch (error) {
    if (outputFailure !== undefined && error === outputFailure) {
      // The reader of standard output went away (`tenancy export --all | head -1`): nothing is wrong
      // with the run, the rest of its output is simply not wanted. Quiet, with the code a shell shows
      // for a command ended by SIGPIPE.
      if ((error as { code?: unknown }).code === 'EPIPE') return CLOSED_PIPE_EXIT_CODE;
      // Anything else (a full disk under `tenancy export --all > file`) left the output incomplete.
      const message = error instanceof Error ? error.message : String(error);
      environment.stderr.write(
        `tenancy ${name}: cannot write standard output: ${message.replace(/, \w+$/, '')}\n`,
      );
      return 1;
    }
    if (error instanceof UsageError || isParseArgsError(error)) {
      environment.stderr.write(
        `tenancy ${name}: ${(error as Error).message}\nRun 'tenancy ${name} --help' for usage.\n`,
      );
      return 2;
    }
    environment.stderr.write(`tenancy ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (
      error instanceof UnknownEventError ||
      (error instanceof Error && error.cause instanceof UnknownEventError)
    ) {
      environment.stderr.write(
        'The log holds an event this version cannot read: a newer version of the service wrote it. Run this command with that version.\n',
      );
    }
    return 1;
  } finally {
    environment.stdout.off('error', onOutputFailure);
    await runtime?.close();
  }
}

const CLOSED_PIPE_EXIT_CODE = shellExitCode('SIGPIPE');

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/**
 * Ctrl-C, SIGTERM and a hang-up (its terminal closed: see STOP_SIGNALS on `nohup`) end the run at
 * once, with the shell's exit code for the signal (130, 143, 129), but through the process's exit
 * handlers, which a death by the signal itself skips: the embedded PostgreSQL a run started is
 * stopped, and a partial output file removed. What a run wrote to the database stays as its
 * transactions committed: replay and import resume it, verify drops it.
 */
function exitOnInterrupt(stderr: NodeJS.WritableStream): void {
  const onSignal = (signal: NodeJS.Signals) => {
    stderr.write(`tenancy: interrupted (${signal})\n`);
    process.exit(shellExitCode(signal));
  };
  for (const signal of STOP_SIGNALS) process.once(signal, onSignal);
}

/**
 * Standard error's reader gone (`tenancy verify 2>&1 | head -1`): the run ends as when standard
 * output's goes, with the shell's code for a command ended by SIGPIPE (141), through the exit
 * handlers. Any other failure of it exits 1; there is nowhere left to say why. Unhandled, the
 * write error was an uncaught exception: exit 1 for a closed pipe too.
 */
function exitWhenStandardErrorFails(): void {
  process.stderr.on('error', (error: NodeJS.ErrnoException) => {
    process.exit(error.code === 'EPIPE' ? CLOSED_PIPE_EXIT_CODE : 1);
  });
}

/** The process entry: the service's own configuration, logs on stderr so stdout stays data. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  closeHungUpTerminalAtExit();
  exitWhenStandardErrorFails();
  exitOnInterrupt(process.stderr);
  return runTenancyCli(argv, {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    async openEventStore(schema): Promise<Runtime> {
      return openRuntime(
        // An operator's command says at once that the database cannot be reached.
        { ...loadConfig(), databaseStartWaitMs: 0 },
        (_level, line) => process.stderr.write(`${line}\n`),
        { longTransactions: true },
        schema,
      );
    },
  });
}

// `tsx src/cli/tenancy.cli.ts` (the npm script) runs this file directly; bin/tenancy.js calls main().
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}

import type { Readable, Writable } from 'node:stream';
import type { ParseArgsConfig } from 'node:util';
import type pg from 'pg';
import type { EventStore } from '../event-store/event-store.port.js';

/** What a command gets to work with; tests hand in their own store and streams. */
export interface CliContext {
  /** Opens the event store on first use, so that `--help` and usage errors need no database. */
  eventStore(): Promise<EventStore>;
  /** The service's PostgreSQL (read models, checkpoints), opened on first use like the store. */
  database(): Promise<pg.Pool>;
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable & { isTTY?: boolean };
}

export type ParsedOptions = Record<string, string | boolean | undefined>;

/**
 * One sub-command of `tenancy`. The dispatcher parses the options with node's util.parseArgs and
 * prints `help`; replay, verify and audit slot in as further entries of the command list.
 */
export interface CliCommand {
  readonly name: string;
  /** One line for the overview. */
  readonly summary: string;
  /** The full `tenancy <name> --help` text. */
  readonly help: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /**
   * Brings the database's schema up to date before it runs (it builds or loads what the service
   * would). Otherwise the command changes no schema and refuses a database whose schema is missing or
   * behind this version.
   */
  readonly migrates?: boolean;
  /** Positional arguments are allowed (import takes its file that way). */
  readonly positionals?: boolean;
  /** Returns the exit code. */
  run(options: ParsedOptions, positionals: readonly string[], context: CliContext): Promise<number>;
}

/** Wrong or missing arguments: the dispatcher prints the message and a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

import { writeSync } from 'node:fs';
import sonicBoom, { type SonicBoomOpts } from 'sonic-boom';

// A CommonJS module: its class is a property of what it exports.
const { SonicBoom } = sonicBoom;

/** Errors after which standard output never takes a line again: its terminal or its reader is gone. */
const GONE = new Set(['EIO', 'EPIPE', 'EBADF', 'ENXIO', 'ECONNRESET']);
/** Lines held while standard output fails for a time (a full disk), written once it takes them again. */
const MAX_HELD_BYTES = 4 * 1024 * 1024;
/** "Try again" answers in a row (each after 100 ms) before a write counts as failed. */
const MAX_WRITE_RETRIES = 20;

/**
 * Standard output for the log lines: pino's own kind of destination (an asynchronous SonicBoom on
 * file descriptor 1), but one whose failure neither stops nor hangs the service. pino's default
 * one throws a write error as an uncaught exception, and then, flushing at exit, retries the
 * lines forever: with its standard output on a full disk, or on a terminal that was closed, the
 * service hung at its first log line and never exited. Here a failed write is counted (see
 * writeErrors), said once on standard error, and:
 * - when standard output is gone for good (its terminal closed: EIO; its reader gone: EPIPE),
 *   the lines are dropped from then on;
 * - otherwise (ENOSPC) they are held, up to MAX_HELD_BYTES, and written with the next line that
 *   goes through; beyond that they are dropped.
 * At exit what is held is written if it can be, once.
 */
class StandardOutput {
  private readonly stream = new SonicBoom({
    fd: 1,
    maxLength: MAX_HELD_BYTES,
    maxWriteRetries: MAX_WRITE_RETRIES,
  } as SonicBoomOpts);
  private gone = false;
  private told = false;
  readonly errors = new Map<string, number>();
  /** Lines dropped: every line once standard output is gone, and those beyond MAX_HELD_BYTES. */
  dropped = 0;
  /** Since when, and why, the last write failed; none once a write goes through again. */
  failing: LogOutputFailure | undefined;

  constructor() {
    this.stream.on('error', (error: unknown) => this.failed(error));
    // A line that did not fit beside those held (one write is one line).
    this.stream.on('drop', () => {
      this.dropped++;
    });
    this.stream.on('write', () => {
      this.failing = undefined;
    });
    process.on('exit', () => this.flushSync());
  }

  write(line: string): void {
    if (this.gone) this.dropped++;
    else this.stream.write(line);
  }

  flushSync(): void {
    if (this.gone) return;
    try {
      this.stream.flushSync();
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    const code = (error as NodeJS.ErrnoException | null)?.code ?? 'UNKNOWN';
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    this.gone ||= GONE.has(code);
    this.failing = { code, since: this.failing?.since ?? new Date(), gone: this.gone };
    if (this.told) return;
    this.told = true;
    const what = this.gone
      ? 'it is gone, so log lines are dropped from now on'
      : `log lines are held (up to ${MAX_HELD_BYTES / 1024 / 1024} MiB) until it takes them again`;
    try {
      writeSync(2, `tenancy: standard output cannot be written (${code}): ${what}\n`);
    } catch {
      // Standard error is gone too.
    }
  }
}

export interface LogOutputFailure {
  /** The error of the last write, e.g. ENOSPC, EIO, EPIPE. */
  readonly code: string;
  readonly since: Date;
  /** Whether standard output is gone for good (its lines are dropped, not held). */
  readonly gone: boolean;
}

let standardOutput: StandardOutput | undefined;

/** The process's one standard output for log lines (every logger of the process shares it). */
export function logOutput(): { write(line: string): void; flushSync(): void } {
  standardOutput ??= new StandardOutput();
  return standardOutput;
}

/** Writes of log lines to standard output that failed so far, by error code. */
export function logWriteErrors(): ReadonlyMap<string, number> {
  return standardOutput?.errors ?? new Map();
}

/**
 * Log lines dropped so far: each line once standard output is gone, and each that did not fit
 * beside those held. Not the lines held at the moment it went away, which sonic-boom keeps to
 * itself.
 */
export function logLinesDropped(): number {
  return standardOutput?.dropped ?? 0;
}

/** Whether standard output refuses the log lines now: since when, and why. */
export function logOutputFailure(): LogOutputFailure | undefined {
  return standardOutput?.failing;
}

import type { LoggerService } from '@nestjs/common';
import { pino, stdTimeFunctions, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { logOutput } from './log-output.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type { Logger };

/**
 * Wherever one of these keys turns up in a logged object it is replaced: request headers are not
 * logged at all, but a careless `log.info({ headers })` must not leak a key either.
 */
const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  'secret',
  '*.secret',
  'operatorKey',
  '*.operatorKey',
  'operatorKeyPrevious',
  '*.operatorKeyPrevious',
  'password',
  '*.password',
];

/**
 * The service's one logger: JSON lines from the first one on, with level names (`"level":"info"`)
 * and ISO times. `destination` is standard output (see logOutput) unless a test captures the lines.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tenancy', pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination ?? logOutput(),
  );
}

type PinoLevel = Exclude<LevelWithSilent, 'silent'>;

/**
 * Nest's LoggerService on the pino logger, so that framework lines (module start-up, `new
 * Logger('Consumers')` in services) are JSON lines of the same stream. `context` becomes a field.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: PinoLevel, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    // Nest passes the context last; an error() call may put a stack trace before it.
    const rest = [...params];
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? rest.pop() : undefined;
    const stack = rest.find((param): param is string => typeof param === 'string');
    const fields: Record<string, unknown> = context === undefined ? {} : { context };
    if (message instanceof Error) {
      this.logger[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.logger[level](stack === undefined ? fields : { ...fields, stack }, String(message));
    }
  }
}

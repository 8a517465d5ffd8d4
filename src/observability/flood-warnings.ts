import type { Logger } from './logger.js';

/** How often a flood is logged at most, after its first line. */
const FLOOD_SUMMARY_INTERVAL_MS = 60_000;

/** A line of the log: its fields (a `context` among them) and its message. */
export interface LogLine {
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

export interface FloodWarnings {
  /**
   * One more of the flood, of a kind (a reason): the first of a flood is logged at once, as
   * `first()` says it; the others are counted for the next summary.
   */
  note(kind: string, first: () => LogLine): void;
  /** Drops what is counted and logs no more summaries (the server closed). */
  stop(): void;
}

/**
 * Warnings for what comes in floods, such as connections refused or clients given up on: one line
 * for each would bury the log. The first of a flood is logged as it happens. While it lasts, one
 * summary line every `intervalMs` says how many more there were of each kind. The first interval
 * with none ends the flood, and the next one is logged as a first again.
 */
export function floodWarnings(
  log: Logger,
  summarise: (counts: Readonly<Record<string, number>>, total: number, intervalMs: number) => LogLine,
  intervalMs: number = FLOOD_SUMMARY_INTERVAL_MS,
): FloodWarnings {
  let counts: Record<string, number> = {};
  let timer: NodeJS.Timeout | undefined;
  const summariseInterval = (): void => {
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
    if (total === 0) {
      timer = undefined;
      return;
    }
    const { fields, message } = summarise(counts, total, intervalMs);
    log.warn(fields, message);
    counts = {};
    timer = setTimeout(summariseInterval, intervalMs).unref();
  };
  return {
    note(kind, first) {
      if (timer === undefined) {
        const { fields, message } = first();
        log.warn(fields, message);
        timer = setTimeout(summariseInterval, intervalMs).unref();
        return;
      }
      counts[kind] = (counts[kind] ?? 0) + 1;
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
      counts = {};
    },
  };
}

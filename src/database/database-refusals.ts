import pg from 'pg';

/**
 * SQLSTATEs with which a server that still answers refuses work for want of a resource, and why.
 * Readiness's own probe is a read that needs none of them: without what is noted here it would say
 * "up" while every write was refused for a full disk.
 */
const RESOURCE_REFUSALS = new Map([
  ['53100', 'its disk is full'],
  ['53200', 'it is out of memory (or its lock table is full)'],
  ['53300', 'it has no connection slot left'],
]);

/**
 * How long a refusal is reported after the latest one. Longer than a consumer waits between its
 * attempts (5 s at most), so that a lasting refusal is reported without a gap while a consumer
 * is behind.
 */
const REPORTED_FOR_MS = 10_000;

export interface DatabaseRefusal {
  readonly sqlState: string;
  /** Why, in words: "its disk is full". */
  readonly reason: string;
  /** The server's own message. */
  readonly message: string;
  readonly at: Date;
}

let latest: DatabaseRefusal | undefined;

/**
 * Notes an error met by a request or a consumer, if it is (or was caused by) the server refusing
 * work for want of a resource; anything else is ignored.
 */
export function noteDatabaseRefusal(error: unknown, at = new Date()): void {
  const refusal = refusalIn(error, 0);
  if (refusal !== undefined) latest = { ...refusal, at };
}

/** The latest refusal, while it is recent enough to say that the server still refuses work. */
export function recentDatabaseRefusal(now = Date.now()): DatabaseRefusal | undefined {
  return latest !== undefined && now - latest.at.getTime() <= REPORTED_FOR_MS ? latest : undefined;
}

function refusalIn(error: unknown, depth: number): Omit<DatabaseRefusal, 'at'> | undefined {
  if (depth > 4 || !(error instanceof Error)) return undefined;
  if (error instanceof pg.DatabaseError) {
    const sqlState = error.code ?? '';
    const reason = RESOURCE_REFUSALS.get(sqlState);
    return reason === undefined ? undefined : { sqlState, reason, message: error.message };
  }
  const inner = error instanceof AggregateError ? (error.errors as unknown[]) : [];
  for (const candidate of [...inner, error.cause]) {
    const found = refusalIn(candidate, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

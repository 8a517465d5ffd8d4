/**
 * Option values as the commands' help writes them, and nothing else: Number() and Date() would
 * also take `0x10`, `1e3` or ` 5` as numbers and `5` or `March 7` as dates, so a typo would select
 * other rows than the auditor meant instead of being refused.
 */

/** A whole number from 1, in decimal digits; undefined for anything else. */
export function positiveIntegerOf(value: string): number | undefined {
  if (!/^\d{1,15}$/.test(value)) return undefined;
  const number = Number(value);
  return number >= 1 ? number : undefined;
}

/** An ISO 8601 date or time (`2025-03-01`, `2025-03-01T12:00:00Z`); undefined for anything else. */
export function isoTimeOf(value: string): Date | undefined {
  const time = new Date(value);
  return /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(time.getTime()) ? time : undefined;
}

import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { floodWarnings, type FloodWarnings } from './flood-warnings.js';
import { createLogger } from './logger.js';

const INTERVAL_MS = 1_000;

describe('floodWarnings', () => {
  let lines: Record<string, unknown>[];
  let flood: FloodWarnings;

  beforeEach(() => {
    jest.useFakeTimers();
    lines = [];
    const log = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) });
    flood = floodWarnings(
      log,
      (counts, total, intervalMs) => ({
        fields: { context: 'Test', refused: total, reasons: counts },
        message: `${total} more in the last ${intervalMs} ms`,
      }),
      INTERVAL_MS,
    );
  });
  afterEach(() => {
    flood.stop();
    jest.useRealTimers();
  });

  const first = (kind: string) => () => ({
    fields: { context: 'Test', reason: kind },
    message: `first: ${kind}`,
  });

  it('logs the first of a flood at once, then the rest in one summary by kind', () => {
    flood.note('a', first('a'));
    expect(lines).toMatchObject([{ level: 'warn', msg: 'first: a', reason: 'a' }]);
    flood.note('a', first('a'));
    flood.note('b', first('b'));
    flood.note('a', first('a'));
    expect(lines).toHaveLength(1);
    jest.advanceTimersByTime(INTERVAL_MS);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      level: 'warn',
      msg: '3 more in the last 1000 ms',
      refused: 3,
      reasons: { a: 2, b: 1 },
    });
  });

  it('while a flood lasts, writes one summary an interval and no new first line', () => {
    flood.note('a', first('a'));
    for (let second = 0; second < 3; second++) {
      flood.note('a', first('a'));
      flood.note('a', first('a'));
      jest.advanceTimersByTime(INTERVAL_MS);
    }
    expect(lines.map((line) => line.msg)).toEqual([
      'first: a',
      '2 more in the last 1000 ms',
      '2 more in the last 1000 ms',
      '2 more in the last 1000 ms',
    ]);
  });

  it('a quiet interval ends the flood: nothing is written for it, and the next one is a first again', () => {
    flood.note('a', first('a'));
    jest.advanceTimersByTime(INTERVAL_MS);
    expect(lines).toHaveLength(1);
    jest.advanceTimersByTime(5 * INTERVAL_MS);
    expect(lines).toHaveLength(1);
    flood.note('b', first('b'));
    expect(lines.map((line) => line.msg)).toEqual(['first: a', 'first: b']);
  });

  it('writes no summary once stopped', () => {
    flood.note('a', first('a'));
    flood.note('a', first('a'));
    flood.stop();
    jest.advanceTimersByTime(2 * INTERVAL_MS);
    expect(lines).toHaveLength(1);
  });
});

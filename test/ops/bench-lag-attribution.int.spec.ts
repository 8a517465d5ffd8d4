import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CheckpointWatch } from '../../bench/lib/checkpoint-watch.js';
import { describeTail, sleep, type TimedSample } from '../../bench/lib/stats.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * What the lag scenarios say of their tail (bench/lib): when the slowest rows were seen, and which
 * checkpoints finished meanwhile, so that a stall of the server can be told from the load itself.
 */
describe('the benchmark checkpoint watch', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database.drop();
  });

  it('sees the checkpoints that finish while it looks, each at the look after it', async () => {
    const watch = new CheckpointWatch(database.pool, 100);
    const origin = performance.now();
    watch.start();
    await sleep(250);
    await database.pool.query('CHECKPOINT');
    await sleep(250);
    await database.pool.query('CHECKPOINT');
    await sleep(250);
    const said = await watch.stop(origin);
    // A timed checkpoint of the server may add one; the two asked for are always there.
    const match = /^(\d+) checkpoints finished, seen at ([\d.]+) s, ([\d.]+) s/.exec(said);
    expect(match).not.toBeNull();
    expect(Number(match?.[1])).toBeGreaterThanOrEqual(2);
    expect(Number(match?.[2])).toBeGreaterThanOrEqual(0.2);
    expect(Number(match?.[3])).toBeGreaterThan(Number(match?.[2]));
    expect(said).toMatch(/looked once a second\); over the window the checkpointer wrote [\d,]+ buffers/);
  });
});

describe('the benchmark tail description', () => {
  const at = (seconds: number, ms: number): TimedSample => ({ seenAt: 1_000 + seconds * 1000, ms });

  it('groups the slowest samples by when they were seen', () => {
    const fast = Array.from({ length: 396 }, (_, n) => at(n * 0.05, 5));
    const samples = [...fast, at(3.1, 120), at(3.4, 90), at(9, 60), at(9.2, 200)];
    expect(describeTail(samples, 1_000)).toBe(
      'the slowest 1% (4 samples, 60 ms and more) were seen in 2 bursts: 3.1-3.4 s (2), 9-9.2 s (2)',
    );
  });

  it('takes at least one sample, and says a spread tail is spread', () => {
    expect(describeTail([at(1, 7)], 1_000)).toBe(
      'the slowest 1% (1 sample, 7 ms and more) were seen in 1 burst: 1 s (1)',
    );
    const spread = Array.from({ length: 800 }, (_, n) => at(n * 0.02, n % 100 === 0 ? 50 : 1));
    expect(describeTail(spread, 1_000)).toBe(
      'the slowest 1% (8 samples, 50 ms and more) were seen in 8 bursts: 0 s (1), 2 s (1), 4 s (1), 6 s (1), 8 s (1), 10 s (1), 2 more',
    );
  });
});

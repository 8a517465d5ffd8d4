import { describe, expect, it } from '@jest/globals';
import { withCleanup } from './transaction.js';

describe('withCleanup', () => {
  const failing = (message: string) => () => Promise.reject(new Error(message));

  it('cleans up after work that succeeded, and gives its result', async () => {
    const done: string[] = [];
    const result = await withCleanup(
      async () => {
        done.push('work');
        return 42;
      },
      async () => done.push('clean-up'),
    );
    expect({ result, done }).toEqual({ result: 42, done: ['work', 'clean-up'] });
  });

  it("after work that failed, cleans up and tells the work's error, not the clean-up's", async () => {
    const done: string[] = [];
    const run = withCleanup(failing('the connection was cut'), async () => {
      done.push('clean-up');
      throw new Error('not queryable');
    });
    await expect(run).rejects.toThrow('the connection was cut');
    expect(done).toEqual(['clean-up']);
  });

  it("tells a clean-up's failure after work that succeeded", async () => {
    await expect(withCleanup(async () => 1, failing('could not unlock'))).rejects.toThrow('could not unlock');
  });
});

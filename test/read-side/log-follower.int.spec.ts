import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, expect, it, jest } from '@jest/globals';
import { followLog, type LogBatch } from '../../src/consumers/log-follower.js';
import { PROJECT_ROOT } from '../support/service-process.js';
import { useTestStore } from '../support/test-store.js';
import { waitFor } from '../support/wait-for.js';

/** A follower far behind the head of the log: how it reads its way to the end. */
describe('a follower catching up', () => {
  const fixture = useTestStore();

  /** Follows the events under the prefix from the start of the log, in batches of 10. */
  const follow = (prefix: string) => {
    const controller = new AbortController();
    const batches = followLog({
      store: fixture.store,
      filter: { streamPrefixes: [prefix] },
      from: 'start',
      signal: controller.signal,
      batchSize: 10,
    })[Symbol.asyncIterator]();
    const stop = async () => {
      controller.abort();
      await batches.return(undefined);
    };
    return { batches, stop };
  };

  /** `count` events on streams of their own under a fresh prefix, appended one by one. */
  const history = async (count: number): Promise<{ prefix: string; types: string[] }> => {
    const prefix = `follow-${randomUUID().slice(0, 8)}-`;
    const types = Array.from({ length: count }, (_, index) => `E${index}`);
    for (const [index, type] of types.entries()) {
      await fixture.store.appendToStream(`${prefix}${index % 3}`, [{ type, data: {} }], 'any');
    }
    return { prefix, types };
  };

  /** Takes batches until the one that reached the end of the log, pausing `pauseMs` after each as a reader at work would. */
  const untilCaughtUp = async (batches: AsyncIterator<LogBatch>, pauseMs = 0): Promise<string[]> => {
    const types: string[] = [];
    for (;;) {
      const { value, done } = await batches.next();
      if (done) throw new Error('the follower ended before it caught up');
      types.push(...value.events.map((event) => event.type));
      if (value.caughtUp) return types;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };

  it('reads the next page while its reader works on the one it has, and hands out every event once, in order', async () => {
    const { prefix, types } = await history(25);
    const reads = jest.spyOn(fixture.store, 'readAll');
    const { batches, stop } = follow(prefix);
    try {
      const first = await batches.next();
      expect(first.value?.events.map((event) => event.type)).toEqual(types.slice(0, 10));
      // The reader has not asked again, yet the second page is on its way.
      await waitFor(async () => reads.mock.calls.length === 2, 2000);
      expect(reads.mock.calls[1]?.[0]).toMatchObject({
        after: first.value?.events[9]?.position,
        maxCount: 10,
      });
      expect([...types.slice(0, 10), ...(await untilCaughtUp(batches))]).toEqual(types);
    } finally {
      reads.mockRestore();
      await stop();
    }
  });

  it('a read ahead that fails is read again after the last batch handed out: nothing skipped, nothing twice, the process carries on', async () => {
    const { prefix, types } = await history(25);
    // In a process of its own, built as the service is: there, a rejection nobody handles ends the
    // process, which a test inside jest would not see. The second read (the first read ahead) fails
    // while the reader lingers over its batch, before anyone awaits it.
    const script = `
      import pg from 'pg';
      import { PostgresEventStore } from './dist/src/event-store/postgres/postgres-event-store.js';
      import { followLog } from './dist/src/consumers/log-follower.js';
      const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
      const store = new PostgresEventStore(pool, process.env.DATABASE_URL);
      const readAll = store.readAll.bind(store);
      let calls = 0;
      store.readAll = async (options) => {
        if (++calls === 2) throw new Error('connection terminated');
        return readAll(options);
      };
      const controller = new AbortController();
      const types = [];
      let errors = 0;
      for await (const batch of followLog({
        store, filter: { streamPrefixes: [process.env.PREFIX] }, from: 'start', signal: controller.signal,
        batchSize: 10, retryDelayMs: 10, onReadError: () => errors++,
      })) {
        types.push(...batch.events.map((event) => event.type));
        if (batch.caughtUp) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      controller.abort();
      await store.close();
      await pool.end();
      console.log(JSON.stringify({ types, errors }));
    `;
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', script],
        {
          cwd: PROJECT_ROOT,
          env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: fixture.database.url, PREFIX: prefix },
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ types, errors: 1 });
  });

  it('reads nothing ahead once it follows live', async () => {
    const { prefix } = await history(3);
    const reads = jest.spyOn(fixture.store, 'readAll');
    const { batches, stop } = follow(prefix);
    try {
      expect((await batches.next()).value?.caughtUp).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // The one catch-up read, which reached the end; no read ahead of the live tail.
      expect(reads.mock.calls).toHaveLength(1);
    } finally {
      reads.mockRestore();
      await stop();
    }
  });
});

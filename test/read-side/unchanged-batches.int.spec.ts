import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { Position, RecordedEvent } from '../../src/event-store/event-store.port.js';
import { CheckpointedConsumer, type ConsumerOptions } from '../../src/consumers/checkpointed-consumer.js';
import { readModelCheckpoints } from '../../src/consumers/checkpoint-stores.js';
import { ProjectionProgress } from '../../src/consumers/projection-progress.js';
import { enterReadModelSchema, enterReadModelSchemaSql } from '../../projections/projection.applier.js';
import { moveReadModelCheckpointSql } from '../../projections/read-model.checkpoints.js';
import { membershipReadModelProjection } from '../../projections/membership-read-model.projection.js';
import { TENANT_STREAM_PREFIX } from '../../src/tenancy/tenant-stream.js';
import { LIVE_READ_MODEL_SCHEMA, READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';
import { useTestStore } from '../support/test-store.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A projection's batch that changes none of its rows (the membership projection's share of a
 * WorkspaceCreated) costs no transaction of its own: its checkpoint is stored with the next batch
 * that does change something, or on its own a little later. A read asking for Min-Position still
 * sees at once that such a projection has got there.
 */
describe('batches that change nothing', () => {
  const testStore = useTestStore();
  const database = () => testStore.database;
  const store = () => testStore.store;

  const storedCheckpoint = async (name: string): Promise<string | undefined> =>
    (
      await database().pool.query<{ position: string }>(
        `SELECT position FROM ${LIVE_READ_MODEL_SCHEMA}.checkpoints WHERE projection = $1`,
        [name],
      )
    ).rows[0]?.position;

  /** Stores a checkpoint by hand, as a replay's swap or another instance would move it. */
  const setCheckpoint = async (projection: string, position: Position): Promise<void> => {
    await database().pool.query(
      `INSERT INTO ${LIVE_READ_MODEL_SCHEMA}.checkpoints (projection, position, updated_at)
       VALUES ($1, $2, now())
       ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position`,
      [projection, position],
    );
  };

  const append = async (stream: string, type: string): Promise<Position> =>
    (await store().appendToStream(stream, [{ type, data: {} }], 'any')).position;

  /**
   * A projector of one stream, checkpointed like the read models: its 'Write' events change
   * something, all others nothing. It tells `seen` the events it is given and `moves` each
   * checkpoint move it asks for.
   */
  const projector = (
    stream: string,
    name: string,
    checkpointDelayMs: number,
    watch: { seen?: string[]; moves?: string[] } & Pick<ConsumerOptions, 'log' | 'onProgress'> = {},
  ) => {
    const { seen, moves, ...callbacks } = watch;
    return new CheckpointedConsumer({
      name,
      filter: { streamPrefixes: [stream] },
      store: store(),
      connectionString: database().url,
      checkpoints: readModelCheckpoints,
      prepareTransaction: (client) => enterReadModelSchema(client, LIVE_READ_MODEL_SCHEMA),
      checkpointDelayMs,
      sqlBatch: {
        prepare: enterReadModelSchemaSql(LIVE_READ_MODEL_SCHEMA),
        toSql: (events: readonly RecordedEvent[]) => {
          seen?.push(...events.map((event) => event.type));
          return events.some((event) => event.type === 'Write') ? 'SELECT 1' : '';
        },
        moveCheckpoint: (consumer, expected, position) => {
          moves?.push(`${expected ?? 'none'}>${position}`);
          return moveReadModelCheckpointSql(consumer, expected, position);
        },
      },
      ...callbacks,
    });
  };

  it('opens no transaction for them, and stores their checkpoint with the next write or soon after', async () => {
    const stream = `unchanged-${randomUUID()}`;
    const name = `unchanged-${randomUUID()}`;
    const moves: string[] = [];
    const progress: { applied: Position; stored: Position | undefined }[] = [];
    const consumer = projector(stream, name, 1000, {
      moves,
      onProgress: (applied, stored) => progress.push({ applied, stored }),
    });
    consumer.start();
    try {
      const first = await append(stream, 'Write');
      await waitFor(async () => (await storedCheckpoint(name)) === first, 5000);
      expect(moves).toEqual([`none>${first}`]);

      // Twenty events that change nothing, each appended once the consumer has taken the one before.
      let last = first;
      for (let index = 0; index < 20; index++) {
        last = await append(stream, 'Nothing');
        const awaited = last;
        await waitFor(async () => consumer.status().position === awaited, 5000);
        // Each is applied at once, in memory, and said so, while the stored checkpoint is behind.
        if (index === 0) expect(progress.at(-1)).toEqual({ applied: last, stored: first });
      }
      await waitFor(async () => (await storedCheckpoint(name)) === last, 5000);
      // All twenty cost one checkpoint write, or a few, where a write came due among them.
      expect(moves.length - 1).toBeGreaterThanOrEqual(1);
      expect(moves.length - 1).toBeLessThanOrEqual(3);
      expect(moves.at(-1)).toMatch(new RegExp(`>${last}$`));
      expect(progress.at(-1)).toEqual({ applied: last, stored: last });

      // Events that change nothing followed by one that writes: one transaction stores it all.
      await append(stream, 'Nothing');
      const written = await append(stream, 'Write');
      await waitFor(async () => (await storedCheckpoint(name)) === written, 5000);
      const before = moves.length;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(moves.length).toBe(before);
      expect(moves.at(-1)).toBe(`${last}>${written}`);
    } finally {
      await consumer.stop();
    }
  });

  it('a stopped consumer resumes from its stored checkpoint, skipping again what changes nothing', async () => {
    const stream = `resume-${randomUUID()}`;
    const name = `resume-${randomUUID()}`;
    const applied: string[] = [];
    // Longer than the test: what changes nothing is never stored on its own here.
    const make = () => projector(stream, name, 60_000, { seen: applied });
    const one = make();
    one.start();
    const first = await append(stream, 'Write');
    await waitFor(async () => (await storedCheckpoint(name)) === first, 5000);
    await append(stream, 'Nothing');
    await waitFor(async () => applied.length === 2, 5000);
    await one.stop();
    expect(await storedCheckpoint(name)).toBe(first);
    const written = await append(stream, 'Write');
    const two = make();
    two.start();
    try {
      await waitFor(async () => (await storedCheckpoint(name)) === written, 5000);
      expect(applied).toEqual(['Write', 'Nothing', 'Nothing', 'Write']);
    } finally {
      await two.stop();
    }
  });

  it('a checkpoint stored on its own that finds it moved by someone else resumes from the stored one', async () => {
    const stream = `moved-${randomUUID()}`;
    const name = `moved-${randomUUID()}`;
    const applied: string[] = [];
    const logged: string[] = [];
    const consumer = projector(stream, name, 500, {
      seen: applied,
      log: (_level, message) => logged.push(message),
    });
    consumer.start();
    try {
      const before = await append(stream, 'Write');
      const first = await append(stream, 'Write');
      await waitFor(async () => (await storedCheckpoint(name)) === first, 5000);
      const last = await append(stream, 'Nothing');
      await waitFor(async () => consumer.status().position === last, 5000);
      // As a replay that swapped in tables rebuilt up to `before` would leave it.
      await setCheckpoint(name, before);
      await waitFor(async () => logged.some((line) => /moved by someone else/.test(line)), 5000);
      // It read again from there: the second Write and the event after it, stored together.
      await waitFor(async () => (await storedCheckpoint(name)) === last, 5000);
      expect(applied).toEqual(['Write', 'Write', 'Nothing', 'Write', 'Nothing']);
    } finally {
      await consumer.stop();
    }
  });

  it('Min-Position counts a projection as there when what lies past its stored checkpoint changed nothing', async () => {
    const names = READ_MODEL_PROJECTIONS.map((projection) => projection.name);
    const stream = `min-position-${randomUUID()}`;
    const stored = await append(stream, 'Write');
    const later = await append(stream, 'Nothing');
    for (const name of names) await setCheckpoint(name, stored);
    const progress = new ProjectionProgress(database().pool, store());
    expect(await progress.hasApplied(later)).toBe(false);
    // The local projector applied `later` (it changed nothing) and its stored checkpoint is `stored`.
    for (const name of names) progress.progressed(name, later, stored);
    expect(await progress.hasApplied(later)).toBe(true);
    // Once the stored checkpoint is another than the one the local projector reported (a replay
    // swapped in rebuilt tables, another instance moved it), only the stored one counts.
    const elsewhere = await append(stream, 'Write');
    const moved = names[0] as string;
    await setCheckpoint(moved, elsewhere);
    expect(await progress.hasApplied(later)).toBe(true);
    await setCheckpoint(moved, (await store().readAll({ maxCount: 1 })).events[0]!.position);
    expect(await progress.hasApplied(later)).toBe(false);
  });

  it('Min-Position on an instance without the projector reads past its stored checkpoint for events that change it', async () => {
    const stream = `${TENANT_STREAM_PREFIX}${randomUUID()}`;
    const storeCheckpoints = async (others: Position, membership: Position) => {
      for (const projection of READ_MODEL_PROJECTIONS) {
        await setCheckpoint(
          projection.name,
          projection === membershipReadModelProjection ? membership : others,
        );
      }
    };
    const progress = new ProjectionProgress(database().pool, store());
    const stored = await append(stream, 'TenantCreated');
    const first = await append(stream, 'WorkspaceCreated');
    const second = await append(stream, 'WorkspaceRenamed');
    // Every other read model is at `second`; the membership one stored `stored`, and nothing after
    // it changes its rows: there, with no word from a projector of this instance.
    await storeCheckpoints(second, stored);
    expect(await progress.hasApplied(first)).toBe(true);
    expect(await progress.hasApplied(second)).toBe(true);
    // An event that changes its rows lies in between: not there, at that event or after it.
    const granted = await append(stream, 'RoleGranted');
    const third = await append(stream, 'WorkspaceCreated');
    await storeCheckpoints(third, stored);
    expect(await progress.hasApplied(second)).toBe(true);
    expect(await progress.hasApplied(granted)).toBe(false);
    expect(await progress.hasApplied(third)).toBe(false);
    await storeCheckpoints(third, granted);
    expect(await progress.hasApplied(third)).toBe(true);
  });
});

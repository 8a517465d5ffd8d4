import type pg from 'pg';
import type { Position, RecordedEvent } from '../event-store/event-store.port.js';
import {
  loadReadModelCheckpoint,
  moveReadModelCheckpoint,
} from '../../projections/read-model.checkpoints.js';

/** Where a consumer keeps its position; read and written inside the consumer's transactions. */
export interface CheckpointStore {
  load(client: pg.ClientBase, consumer: string): Promise<Position | undefined>;
  /**
   * Moves the checkpoint from `expected` (undefined: none stored yet) to `position`; false when the
   * stored checkpoint is not `expected` any more, and then nothing is written.
   */
  save(
    client: pg.ClientBase,
    consumer: string,
    expected: Position | undefined,
    position: Position,
  ): Promise<boolean>;
  /** Records an event the consumer gave up on; the consumer stops there. */
  recordFailure(
    client: pg.ClientBase,
    consumer: string,
    event: RecordedEvent,
    attempts: number,
    error: string,
  ): Promise<void>;
}

/** Checkpoints of the read-model projections, inside the read-model schema (see projections/). */
export const readModelCheckpoints: CheckpointStore = {
  load: loadReadModelCheckpoint,
  save: moveReadModelCheckpoint,
  async recordFailure(client, consumer, event, attempts, error) {
    await insertFailure(client, 'projection_failures', 'projection', consumer, event, attempts, error);
  },
};

/** Checkpoints of the process managers, outside the read models: a rebuild must not re-trigger them. */
export const processCheckpoints: CheckpointStore = {
  async load(client, consumer) {
    const { rows } = await client.query<{ position: string }>(
      'SELECT position FROM public.process_checkpoints WHERE process = $1',
      [consumer],
    );
    return rows[0]?.position as Position | undefined;
  },
  async save(client, consumer, expected, position) {
    // A checkpoint only moves from where its writer believes it is: a consumer that lost track (a
    // second writer appeared) finds out instead of overwriting.
    const result =
      expected === undefined
        ? await client.query(
            `INSERT INTO public.process_checkpoints (process, position, updated_at) VALUES ($1, $2, now())
             ON CONFLICT (process) DO NOTHING`,
            [consumer, position],
          )
        : await client.query(
            `UPDATE public.process_checkpoints SET position = $3, updated_at = now()
             WHERE process = $1 AND position = $2`,
            [consumer, expected, position],
          );
    return result.rowCount === 1;
  },
  async recordFailure(client, consumer, event, attempts, error) {
    await insertFailure(client, 'public.process_failures', 'process', consumer, event, attempts, error);
  },
};

async function insertFailure(
  client: pg.ClientBase,
  table: string,
  column: string,
  consumer: string,
  event: RecordedEvent,
  attempts: number,
  error: string,
): Promise<void> {
  await client.query(
    `INSERT INTO ${table} (${column}, position, event_id, event_type, attempts, error)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (${column}, position) DO UPDATE SET attempts = EXCLUDED.attempts, error = EXCLUDED.error, failed_at = now()`,
    [consumer, event.position, event.id, event.type, attempts, error.slice(0, 2000)],
  );
}

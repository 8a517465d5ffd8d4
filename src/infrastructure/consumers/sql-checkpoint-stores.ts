import pg from 'pg';
import type { Position, RecordedEvent } from '../../event-store/event-store.port.js';
import { CHECKPOINT_MOVED, type CheckpointStore } from './checkpointed-consumer.js';
import { inlineStatement, sql } from '../database/sql-statement.js';

/**
 * Checkpoints of the read-model projections live in the read-model schema itself (unqualified
 * names, resolved by the transaction's search path), so a rebuilt schema carries its own.
 */
export const readModelCheckpoints: CheckpointStore = {
  async load(client, consumer) {
    const { rows } = await client.query<{ position: string }>(
      'SELECT position FROM checkpoints WHERE projection = $1',
      [consumer],
    );
    return rows[0]?.position as Position | undefined;
  },
  async save(client, consumer, expected, position) {
    try {
      await client.query(moveReadModelCheckpointSql(consumer, expected, position));
      return true;
    } catch (error) {
      if (error instanceof pg.DatabaseError && error.code === CHECKPOINT_MOVED) return false;
      throw error;
    }
  },
  async recordFailure(client, consumer, event, attempts, error) {
    await insertFailure(client, 'projection_failures', 'projection', consumer, event, attempts, error);
  },
};

/**
 * The statement moving a read-model checkpoint (rm_move_checkpoint, migrations/0002): fails with
 * CHECKPOINT_MOVED when the stored checkpoint is not `expected`, so it can close a one-round-trip
 * batch and roll it back.
 */
export function moveReadModelCheckpointSql(
  consumer: string,
  expected: Position | undefined,
  position: Position,
): string {
  return inlineStatement(sql`SELECT rm_move_checkpoint(${consumer}, ${expected ?? null}, ${position})`);
}

/** Checkpoints of the process managers, outside the read models: a rebuild must not re-trigger them. */
export const processCheckpoints: CheckpointStore = {
  async load(client, consumer) {
    const { rows } = await client.query<{ position: string }>(
      'SELECT position FROM public.process_checkpoints WHERE process = $1',
      [consumer],
    );
    return rows[0]?.position as Position | undefined;
  },
  save(client, consumer, expected, position) {
    return compareAndSet(client, 'public.process_checkpoints', 'process', consumer, expected, position);
  },
  async recordFailure(client, consumer, event, attempts, error) {
    await insertFailure(client, 'public.process_failures', 'process', consumer, event, attempts, error);
  },
};

/**
 * A checkpoint only moves from where its writer believes it is: a consumer that lost track (its
 * tables were swapped by a replay, or a second writer appeared) finds out instead of overwriting.
 */
async function compareAndSet(
  client: pg.ClientBase,
  table: string,
  column: string,
  consumer: string,
  expected: Position | undefined,
  position: Position,
): Promise<boolean> {
  const result =
    expected === undefined
      ? await client.query(
          `INSERT INTO ${table} (${column}, position, updated_at) VALUES ($1, $2, now()) ON CONFLICT (${column}) DO NOTHING`,
          [consumer, position],
        )
      : await client.query(
          `UPDATE ${table} SET position = $3, updated_at = now() WHERE ${column} = $1 AND position = $2`,
          [consumer, expected, position],
        );
  return result.rowCount === 1;
}

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

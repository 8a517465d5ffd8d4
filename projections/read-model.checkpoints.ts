import pg from 'pg';
import type { Position } from '../src/event-store/event-store.port.js';
import { inlineStatement, sql } from '../src/database/sql-statement.js';

/** SQLSTATE of a checkpoint move that found the checkpoint moved by someone else (rm_move_checkpoint). */
export const CHECKPOINT_MOVED = 'ES412';

/**
 * Where a projection stands, kept in the read-model schema itself (unqualified names, resolved by
 * the transaction's search path), so that a rebuilt schema carries its own checkpoints and the
 * rows and their checkpoint always commit together.
 */
export async function loadReadModelCheckpoint(
  client: pg.ClientBase,
  projection: string,
): Promise<Position | undefined> {
  const { rows } = await client.query<{ position: string }>(
    'SELECT position FROM checkpoints WHERE projection = $1',
    [projection],
  );
  return rows[0]?.position as Position | undefined;
}

/**
 * The statement moving a read-model checkpoint (rm_move_checkpoint, migrations/0002): fails with
 * CHECKPOINT_MOVED when the stored checkpoint is not `expected`, so that it can close a
 * one-round-trip batch and roll the whole batch back.
 */
export function moveReadModelCheckpointSql(
  projection: string,
  expected: Position | undefined,
  position: Position,
): string {
  return inlineStatement(sql`SELECT rm_move_checkpoint(${projection}, ${expected ?? null}, ${position})`);
}

/** Moves the checkpoint from `expected` to `position`; false when it had moved, and nothing is written. */
export async function moveReadModelCheckpoint(
  client: pg.ClientBase,
  projection: string,
  expected: Position | undefined,
  position: Position,
): Promise<boolean> {
  try {
    await client.query(moveReadModelCheckpointSql(projection, expected, position));
    return true;
  } catch (error) {
    if (error instanceof pg.DatabaseError && error.code === CHECKPOINT_MOVED) return false;
    throw error;
  }
}

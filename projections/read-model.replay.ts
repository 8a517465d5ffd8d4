import type pg from 'pg';
import type { EventStore, Position } from '../src/event-store/event-store.port.js';
import { quoteIdentifier } from '../src/database/database-urls.js';
import { inTransaction } from '../src/database/transaction.js';
import { compareReadModels, type TableComparison } from './read-model.comparison.js';
import type { Projection } from './projection.js';
import { LIVE_READ_MODEL_SCHEMA, READ_MODEL_PROJECTIONS } from './read-model.projections.js';
import {
  dropReadModelSchema,
  finishRebuild,
  resumeRebuild,
  startRebuild,
  type RebuildProgress,
} from './read-model.rebuild.js';

/** Where a replay builds its copy; kept until the swap, so an interrupted replay resumes. */
export const REPLAY_SCHEMA = 'read_model_replay';
const RETIRED_SCHEMA = 'read_model_retired';

export interface ReplayOptions {
  readonly store: EventStore;
  readonly client: pg.ClientBase;
  /** More connections, for loading the projections side by side (see RebuildOptions.pool). */
  readonly pool?: pg.Pool;
  readonly projections?: readonly Projection[];
  /** Drop an unfinished replay and start again from zero instead of resuming it. */
  readonly fresh?: boolean;
  readonly onProgress?: (progress: RebuildProgress) => void;
}

export interface ReplayOutcome {
  readonly resumed: boolean;
  readonly events: Map<string, number>;
}

/**
 * Rebuilds read models from position zero into a separate schema while the service keeps
 * answering from the live ones, then swaps the rebuilt tables in, in one short transaction.
 *
 * The live projector may be in the middle of a batch at the swap: the swap locks the tables (so
 * that batch finishes first) and moves the checkpoint with them. The projector's next checkpoint
 * write then no longer matches (checkpoints are compare-and-set), so it resumes from the swapped-in
 * checkpoint and applies whatever the rebuild had not reached yet.
 */
export async function replayReadModels(options: ReplayOptions): Promise<ReplayOutcome> {
  const { client } = options;
  const projections = options.projections ?? READ_MODEL_PROJECTIONS;
  // One replay at a time: a second one would write into the same schema (or drop it, --fresh)
  // under the first, and one of them would fail on whatever it met first.
  const { rows } = await client.query<{ locked: boolean }>(
    `SELECT pg_try_advisory_lock(${REPLAY_LOCK}) AS locked`,
  );
  if (rows[0]?.locked !== true)
    throw new Error('another replay of this database is running; run it again once that one is done');
  try {
    return await replayHoldingLock(options, projections);
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${REPLAY_LOCK})`);
  }
}

/** The advisory lock a replay holds on its session while it runs. */
const REPLAY_LOCK = "hashtext('tenancy-replay'), 0";

async function replayHoldingLock(
  options: ReplayOptions,
  projections: readonly Projection[],
): Promise<ReplayOutcome> {
  const { client, store } = options;
  if (options.fresh) await dropReadModelSchema(client, REPLAY_SCHEMA);
  const resumed = await schemaExists(client, REPLAY_SCHEMA);
  if (!resumed) await startRebuild(client, REPLAY_SCHEMA, projections);
  const events = await resumeRebuild({
    store,
    client,
    schema: REPLAY_SCHEMA,
    projections,
    onProgress: options.onProgress,
    pool: options.pool,
  });
  await finishRebuild(client, REPLAY_SCHEMA, options.pool);
  await swapIn(client, projections);
  await dropReadModelSchema(client, REPLAY_SCHEMA);
  return { resumed, events };
}

async function swapIn(client: pg.ClientBase, projections: readonly Projection[]): Promise<void> {
  const live = quoteIdentifier(LIVE_READ_MODEL_SCHEMA);
  const next = quoteIdentifier(REPLAY_SCHEMA);
  const retired = quoteIdentifier(RETIRED_SCHEMA);
  const tables = projections.flatMap((projection) => projection.tables).map(quoteIdentifier);
  await inTransaction(client, async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${retired} CASCADE; CREATE SCHEMA ${retired}`);
    await client.query(
      `LOCK TABLE ${[...tables, 'checkpoints'].map((table) => `${live}.${table}`).join(', ')} IN ACCESS EXCLUSIVE MODE`,
    );
    for (const table of tables) {
      await client.query(`ALTER TABLE ${live}.${table} SET SCHEMA ${retired}`);
      await client.query(`ALTER TABLE ${next}.${table} SET SCHEMA ${live}`);
    }
    const names = projections.map((projection) => projection.name);
    await client.query(`DELETE FROM ${live}.checkpoints WHERE projection = ANY ($1)`, [names]);
    await client.query(
      `INSERT INTO ${live}.checkpoints (projection, position, updated_at)
       SELECT projection, position, now() FROM ${next}.checkpoints WHERE projection = ANY ($1)`,
      [names],
    );
    await client.query(`DELETE FROM ${live}.projection_failures WHERE projection = ANY ($1)`, [names]);
  });
  await client.query(`DROP SCHEMA IF EXISTS ${retired} CASCADE`);
}

export interface VerifyOutcome {
  readonly comparisons: readonly TableComparison[];
  readonly attempts: number;
}

/**
 * Replays the log into a scratch schema and compares it, row for row, with the live read models
 * as of the same positions. The live ones keep moving while the service runs, so the comparison
 * is made in one snapshot that still shows the live checkpoints the scratch copy was built up to;
 * if they moved in between, the copy catches up and the comparison is made again.
 */
export async function verifyReadModels(options: {
  readonly store: EventStore;
  readonly client: pg.ClientBase;
  readonly pool?: pg.Pool;
  readonly onProgress?: (progress: RebuildProgress) => void;
  readonly maxAttempts?: number;
}): Promise<VerifyOutcome> {
  const { client, store } = options;
  const scratch = `${VERIFY_SCHEMA_PREFIX}${process.pid}_${Date.now()}`;
  // Held for the whole run on this session, so that another verify sees the schema is in use; a
  // run that is killed loses it with its connection, and the next verify drops what it left.
  await client.query(`SELECT pg_advisory_lock(${VERIFY_LOCK}, hashtext($1))`, [scratch]);
  try {
    await dropAbandonedVerifySchemas(client);
    await startRebuild(client, scratch);
    const maxAttempts = options.maxAttempts ?? 20;
    for (let attempt = 1; ; attempt++) {
      const checkpoints = await liveCheckpoints(client);
      for (const projection of READ_MODEL_PROJECTIONS) {
        const until = checkpoints.get(projection.name);
        if (until === undefined) continue;
        await resumeRebuild({
          store,
          client,
          schema: scratch,
          projections: [projection],
          until,
          onProgress: options.onProgress,
          pool: options.pool,
        });
      }
      // Indexes built and foreign keys checked, as in the live schema (a no-op after the first time).
      await finishRebuild(client, scratch, options.pool);
      const comparisons = await inTransaction(
        client,
        async () => {
          const now = await liveCheckpoints(client);
          const unchanged =
            [...checkpoints].every(([name, position]) => now.get(name) === position) &&
            now.size === checkpoints.size;
          return unchanged
            ? compareReadModels(client, LIVE_READ_MODEL_SCHEMA, scratch, { inTransaction: true })
            : undefined;
        },
        'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      );
      if (comparisons !== undefined) return { comparisons, attempts: attempt };
      if (attempt >= maxAttempts)
        throw new Error(`the live read models kept moving; no stable snapshot after ${attempt} attempts`);
    }
  } finally {
    try {
      await dropReadModelSchema(client, scratch);
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${VERIFY_LOCK}, hashtext($1))`, [scratch]);
    }
  }
}

const VERIFY_SCHEMA_PREFIX = 'read_model_verify_';
/** The first key of the advisory locks verify runs hold on their scratch schemas. */
const VERIFY_LOCK = "hashtext('tenancy-verify')";

/**
 * Drops the scratch schemas of verify runs that ended without dropping their own (interrupted by a
 * signal, killed, their connection lost): each is a whole copy of the read models. A schema whose
 * lock can be taken has no run left holding it.
 */
async function dropAbandonedVerifySchemas(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ schema: string }>(
    `SELECT nspname AS schema FROM pg_namespace WHERE starts_with(nspname, $1)`,
    [VERIFY_SCHEMA_PREFIX],
  );
  for (const { schema } of rows) {
    const { rows: taken } = await client.query<{ locked: boolean }>(
      `SELECT pg_try_advisory_lock(${VERIFY_LOCK}, hashtext($1)) AS locked`,
      [schema],
    );
    if (taken[0]?.locked !== true) continue;
    try {
      await dropReadModelSchema(client, schema);
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${VERIFY_LOCK}, hashtext($1))`, [schema]);
    }
  }
}

async function liveCheckpoints(client: pg.ClientBase): Promise<Map<string, Position>> {
  const { rows } = await client.query<{ projection: string; position: string }>(
    `SELECT projection, position FROM ${quoteIdentifier(LIVE_READ_MODEL_SCHEMA)}.checkpoints`,
  );
  return new Map(rows.map((row) => [row.projection, row.position as Position]));
}

async function schemaExists(client: pg.ClientBase, schema: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return rowCount === 1;
}

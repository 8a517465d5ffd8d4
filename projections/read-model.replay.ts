import type pg from 'pg';
import type { EventStore, Position } from '../src/event-store/event-store.port.js';
import { quoteIdentifier } from '../src/database/database-urls.js';
import { inTransaction, withCleanup, withPooledClient } from '../src/database/transaction.js';
import { COMPARED_TABLES, compareReadModelsAcross, type TableComparison } from './read-model.comparison.js';
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
  /** The copy is ready, and the swap waits for a transaction that holds the live tables. */
  readonly onSwapWaiting?: () => void;
  /**
   * Which release builds the copy (`tenancy 0.1.0 (event schema version 2)`), recorded with it. A
   * copy kept by another release is started over, not resumed: its projections may differ, and a
   * copy half of one release and half of another is neither's.
   */
  readonly release?: string;
  /** Told which release built the kept copy that is started over. */
  readonly onStartOver?: (keptBy: string) => void;
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
  if (rows[0]?.locked !== true) throw new ReplayRunningError();
  return withCleanup(
    () => replayHoldingLock(options, projections),
    () => client.query(`SELECT pg_advisory_unlock(${REPLAY_LOCK})`),
  );
}

/** Another replay holds the database: this one did nothing. */
export class ReplayRunningError extends Error {
  override name = 'ReplayRunningError';
  constructor() {
    super('another replay of this database is running; run it again once that one is done');
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
  let resumed = await schemaExists(client, REPLAY_SCHEMA);
  // A copy without a release recorded was kept by a release before they were: it is resumed.
  const keptBy = resumed ? await releaseThatBuilt(client) : null;
  if (keptBy !== null && options.release !== undefined && keptBy !== options.release) {
    options.onStartOver?.(keptBy);
    await dropReadModelSchema(client, REPLAY_SCHEMA);
    resumed = false;
  }
  if (!resumed) {
    await startRebuild(client, REPLAY_SCHEMA, projections);
    if (options.release !== undefined) {
      await client.query(
        `COMMENT ON SCHEMA ${quoteIdentifier(REPLAY_SCHEMA)} IS ${client.escapeLiteral(options.release)}`,
      );
    }
  }
  const events = await resumeRebuild({
    store,
    client,
    schema: REPLAY_SCHEMA,
    projections,
    onProgress: options.onProgress,
    pool: options.pool,
  });
  await finishRebuild(client, REPLAY_SCHEMA, options.pool);
  await swapIn(client, projections, options.onSwapWaiting);
  await dropReadModelSchema(client, REPLAY_SCHEMA);
  return { resumed, events };
}

/**
 * How long one attempt of the swap waits for the live tables, and the pause before the next. A lock
 * request that waits queues every later read and write of the table behind it: behind a long reader
 * (an analyst's transaction, a verify comparing), an unbounded wait would stop the service's reads
 * of that table for as long as the reader runs. Bounded, the service waits at most this long, and
 * the swap tries again until the reader is done.
 */
const SWAP_LOCK_WAIT_MS = 100;
const SWAP_RETRY_PAUSE_MS = 400;

async function swapIn(
  client: pg.ClientBase,
  projections: readonly Projection[],
  onWaiting?: () => void,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await swapInOnce(client, projections);
      break;
    } catch (error) {
      if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw error;
      if (attempt === 1) onWaiting?.();
      await new Promise((resolve) => setTimeout(resolve, SWAP_RETRY_PAUSE_MS));
    }
  }
  await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(RETIRED_SCHEMA)} CASCADE`);
}

/** lock_timeout ran out. */
const LOCK_NOT_AVAILABLE = '55P03';

async function swapInOnce(client: pg.ClientBase, projections: readonly Projection[]): Promise<void> {
  const live = quoteIdentifier(LIVE_READ_MODEL_SCHEMA);
  const next = quoteIdentifier(REPLAY_SCHEMA);
  const retired = quoteIdentifier(RETIRED_SCHEMA);
  const tables = projections.flatMap((projection) => projection.tables).map(quoteIdentifier);
  await inTransaction(client, async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${retired} CASCADE; CREATE SCHEMA ${retired}`);
    await client.query(`SET LOCAL lock_timeout = '${SWAP_LOCK_WAIT_MS}ms'`);
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
}

export interface VerifyOutcome {
  readonly comparisons: readonly TableComparison[];
  /** The point of the log compared at: each projection's live checkpoint in the snapshot read. */
  readonly positions: ReadonlyMap<string, Position>;
}

/**
 * Replays the log into a scratch schema and compares it, row for row, with the live read models
 * as of the same positions, while the service keeps writing.
 *
 * The live read models move all the time under load, so the comparison is made at a fixed point:
 * one REPEATABLE READ READ ONLY transaction on the live database (`client`), whose first read takes
 * each projection's live checkpoint and whose later reads see the live rows as of exactly those
 * checkpoints however far the projectors move meanwhile. The scratch copy is brought to those
 * positions on another connection, then compared with the live rows read inside the snapshot.
 * Rows committed after a snapshot began are invisible to it, so the scratch side cannot be read in
 * it: it is read on that other connection, and the two sides are merged here
 * (compareReadModelsAcross). The snapshot writes nothing, so it has no transaction id and never
 * holds the event log's read horizon back for the service's readers.
 *
 * The bulk of the replay happens before the snapshot: every projection up to the lowest of the
 * live checkpoints (one read of the log per filter), then each one caught up to where its live
 * projector has got to since; inside the snapshot only the last few events are left to apply.
 */
export async function verifyReadModels(options: {
  readonly store: EventStore;
  readonly client: pg.ClientBase;
  /** The other connections: the scratch copy is built and read on them while `client` holds the snapshot. */
  readonly pool: pg.Pool;
  readonly onProgress?: (progress: RebuildProgress) => void;
}): Promise<VerifyOutcome> {
  const { client, store, pool } = options;
  const scratch = `${VERIFY_SCHEMA_PREFIX}${process.pid}_${Date.now()}`;
  /** Each projection of the scratch copy brought to its position in `checkpoints`, on `on`. */
  const topUp = async (on: pg.ClientBase, checkpoints: ReadonlyMap<string, Position>) => {
    let applied = 0;
    for (const projection of READ_MODEL_PROJECTIONS) {
      const until = checkpoints.get(projection.name);
      if (until === undefined) continue;
      const events = await resumeRebuild({
        store,
        client: on,
        schema: scratch,
        projections: [projection],
        until,
        pool,
      });
      applied += events.get(projection.name) ?? 0;
    }
    return applied;
  };
  // Held for the whole run on this session, so that another verify sees the schema is in use; a
  // run that is killed loses it with its connection, and the next verify drops what it left.
  await client.query(`SELECT pg_advisory_lock(${VERIFY_LOCK}, hashtext($1))`, [scratch]);
  return withCleanup(
    async () => {
      await dropAbandonedVerifySchemas(client);
      await startRebuild(client, scratch);
      const start = await liveCheckpoints(client);
      const started = READ_MODEL_PROJECTIONS.filter((projection) => start.has(projection.name));
      const lowest = [...start.values()].reduce<Position | undefined>(
        (a, b) => (a === undefined || store.comparePositions(b, a) < 0 ? b : a),
        undefined,
      );
      if (lowest !== undefined)
        await resumeRebuild({
          store,
          client,
          schema: scratch,
          projections: started,
          until: lowest,
          onProgress: options.onProgress,
          pool,
        });
      // Indexes built and foreign keys checked, as in the live schema.
      await finishRebuild(client, scratch, pool);
      let patience: number | undefined;
      for (;;) {
        // Caught up outside the snapshot, until little is left for inside it.
        for (let round = 0; round < CATCH_UP_ROUNDS; round++) {
          if ((await topUp(client, await liveCheckpoints(client))) <= CATCH_UP_ENOUGH) break;
        }
        const outcome = await inTransaction<VerifyOutcome | { readonly behind: string }>(
          client,
          async () => {
            const positions = await liveCheckpoints(client);
            return withPooledClient(pool, async (other) => {
              const behind = await behindScratch(store, other, scratch, positions);
              if (behind !== undefined) return { behind };
              await topUp(other, positions);
              const comparisons = await compareReadModelsAcross(
                { client, schema: LIVE_READ_MODEL_SCHEMA },
                { client: other, schema: scratch },
              );
              return { comparisons, positions };
            });
          },
          // No statement or idle bound: the snapshot waits while the other connection applies the
          // last events, and a large table's digests are sorted in one statement. The live tables
          // are locked before the first read takes the snapshot: a replay swapping its tables in at
          // that moment would otherwise leave a snapshot taken before its swap committed, which
          // sees the old checkpoints but, by name, the swapped-in tables. Locked, a swap finishes
          // first or waits for the comparison.
          `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0;
         LOCK TABLE ${LIVE_TABLES.map((table) => `${quoteIdentifier(LIVE_READ_MODEL_SCHEMA)}.${quoteIdentifier(table)}`).join(', ')} IN ACCESS SHARE MODE`,
        );
        if (!('behind' in outcome)) return outcome;
        // A replay swapped in tables behind the scratch copy: their projector applies the rest
        // again, and soon gets past it.
        patience ??= Date.now() + STEP_BACK_PATIENCE_MS;
        if (Date.now() >= patience)
          throw new Error(
            `the live read models of ${outcome.behind} went back to an earlier point of the log during the run (as when a replay swaps its tables in) and were still behind the replayed copy ${STEP_BACK_PATIENCE_MS / 1000} s later; run verify again once their projector has caught up`,
          );
        await new Promise((resolve) => setTimeout(resolve, STEP_BACK_WAIT_MS));
      }
    },
    () =>
      withCleanup(
        () => dropReadModelSchema(client, scratch),
        () => client.query(`SELECT pg_advisory_unlock(${VERIFY_LOCK}, hashtext($1))`, [scratch]),
      ),
  );
}

/** What verify's snapshot reads of the live schema, in the order a replay's swap locks them (so neither waits on the other in a cycle). */
const LIVE_TABLES = [...COMPARED_TABLES, 'checkpoints'];

/** Catch-up rounds before the snapshot, each ending when the scratch copy reaches where the live one was. */
const CATCH_UP_ROUNDS = 5;
/** Events a catch-up round may still apply and be the last before the snapshot. */
const CATCH_UP_ENOUGH = 1_000;

/** How long verify waits for live read models a swap moved back to get past its scratch copy again, and how often it looks. */
const STEP_BACK_PATIENCE_MS = 30_000;
const STEP_BACK_WAIT_MS = 250;

/**
 * The projection whose scratch copy is past the snapshot's checkpoint, if any. The live ones only
 * move forward, unless a replay swapped its tables in meanwhile (their checkpoints may be behind
 * the ones they replaced), and a comparison across such a step back would report differences that
 * are not there.
 */
async function behindScratch(
  store: EventStore,
  client: pg.ClientBase,
  scratch: string,
  live: ReadonlyMap<string, Position>,
): Promise<string | undefined> {
  const { rows } = await client.query<{ projection: string; position: string }>(
    `SELECT projection, position FROM ${quoteIdentifier(scratch)}.checkpoints`,
  );
  return rows.find((row) => {
    const at = live.get(row.projection);
    return at === undefined || store.comparePositions(row.position as Position, at) > 0;
  })?.projection;
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
    await withCleanup(
      () => dropReadModelSchema(client, schema),
      () => client.query(`SELECT pg_advisory_unlock(${VERIFY_LOCK}, hashtext($1))`, [schema]),
    );
  }
}

/** The live checkpoint of each read-model projection that has one, in the order they are applied. */
async function liveCheckpoints(client: pg.ClientBase): Promise<Map<string, Position>> {
  const { rows } = await client.query<{ projection: string; position: string }>(
    `SELECT projection, position FROM ${quoteIdentifier(LIVE_READ_MODEL_SCHEMA)}.checkpoints`,
  );
  const stored = new Map(rows.map((row) => [row.projection, row.position as Position]));
  return new Map(
    READ_MODEL_PROJECTIONS.flatMap((projection) => {
      const position = stored.get(projection.name);
      return position === undefined ? [] : [[projection.name, position] as const];
    }),
  );
}

async function releaseThatBuilt(client: pg.ClientBase): Promise<string | null> {
  const { rows } = await client.query<{ release: string | null }>(
    `SELECT obj_description(oid, 'pg_namespace') AS release FROM pg_namespace WHERE nspname = $1`,
    [REPLAY_SCHEMA],
  );
  return rows[0]?.release ?? null;
}

async function schemaExists(client: pg.ClientBase, schema: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return rowCount === 1;
}

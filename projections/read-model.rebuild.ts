import pg from 'pg';
import type { EventStore, Position } from '../src/event-store/event-store.port.js';
import { quoteIdentifier } from '../src/database/database-urls.js';
import { inTransaction } from '../src/database/transaction.js';
import { applyProjection, enterReadModelSchemaSql } from './projection.applier.js';
import { loadReadModelCheckpoint, moveReadModelCheckpoint } from './read-model.checkpoints.js';
import type { Projection } from './projection.js';
import { READ_MODEL_PROJECTIONS } from './read-model.projections.js';

export interface RebuildProgress {
  readonly projection: string;
  readonly events: number;
  readonly position: Position | undefined;
}

export interface RebuildOptions {
  readonly store: EventStore;
  readonly client: pg.ClientBase;
  /** The schema to build; created here, so it must not exist yet. */
  readonly schema: string;
  readonly projections?: readonly Projection[];
  /** Events per transaction. */
  readonly batchSize?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Stop at this position (inclusive) instead of the log's current end. */
  readonly until?: Position;
}

/**
 * Replays the log from position zero into a fresh read-model schema: the same projections, the
 * same SQL, the same checkpoints as the live read models, so the result can be compared with them
 * (verify) or swapped in for them (replay). Each batch commits with its checkpoint, so an
 * interrupted rebuild can resume (see resumeRebuild).
 */
export async function rebuildReadModels(options: RebuildOptions): Promise<Map<string, number>> {
  await options.client.query('SELECT rm_create_schema($1)', [options.schema]);
  return resumeRebuild(options);
}

/** Continues a rebuild into an existing schema from each projection's checkpoint there. */
export async function resumeRebuild(options: RebuildOptions): Promise<Map<string, number>> {
  const { store, client, schema } = options;
  const applied = new Map<string, number>();
  const until = options.until ?? (await store.headPosition());
  for (const projection of options.projections ?? READ_MODEL_PROJECTIONS) {
    let count = 0;
    let stored = await inSchema(client, schema, () => loadReadModelCheckpoint(client, projection.name));
    let after = stored;
    while (until !== undefined && (after === undefined || store.comparePositions(after, until) < 0)) {
      const page = await store.readAll({
        after,
        maxCount: options.batchSize ?? 2000,
        filter: projection.filter,
      });
      const events = page.events.filter((event) => store.comparePositions(event.position, until) <= 0);
      const next = events.length > 0 ? events[events.length - 1]?.position : undefined;
      if (next !== undefined) {
        await inSchema(client, schema, async () => {
          await applyProjection(client, projection, events);
          if (!(await moveReadModelCheckpoint(client, projection.name, stored, next))) {
            throw new Error(`the checkpoint of ${projection.name} in ${schema} moved during the rebuild`);
          }
        });
        count += events.length;
        stored = next;
        after = next;
        options.onProgress?.({ projection: projection.name, events: count, position: next });
      }
      if (page.isEnd || events.length < page.events.length || page.nextPosition === undefined) break;
      if (events.length === 0) after = page.nextPosition;
    }
    applied.set(projection.name, count);
  }
  return applied;
}

/** A transaction whose unqualified table names resolve to the schema being built, as the projector. */
function inSchema<T>(client: pg.ClientBase, schema: string, work: () => Promise<T>): Promise<T> {
  return inTransaction(client, work, `BEGIN; ${enterReadModelSchemaSql(schema)}`);
}

/** Drops a read-model schema built by a rebuild (never the live one by accident: the name is checked). */
export async function dropReadModelSchema(client: pg.ClientBase, schema: string): Promise<void> {
  if (schema === 'read_model') throw new Error('refusing to drop the live read models');
  await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
}

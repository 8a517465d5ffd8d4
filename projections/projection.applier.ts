import type pg from 'pg';
import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import { quoteIdentifier } from '../src/database/database-urls.js';
import type { Projection } from './projection.js';
import { inlineStatement } from '../src/database/sql-statement.js';

/**
 * Points the open transaction at a read-model schema, as the projector role: the projections'
 * unqualified table names then resolve to that schema, and row-level security applies.
 */
export function enterReadModelSchemaSql(schema: string): string {
  // Read models are derived: a crash may lose the last few commits of a projector, but rows and
  // checkpoint commit together, so it resumes from a checkpoint that matches its rows. Not waiting
  // for each of these commits to reach the disk leaves the flushes to the appends that need them.
  return `SET LOCAL ROLE tenancy_projector; SET LOCAL search_path TO ${quoteIdentifier(schema)}, public; SET LOCAL synchronous_commit TO off`;
}

export async function enterReadModelSchema(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query(enterReadModelSchemaSql(schema));
}

/** The statements applying a batch of events, as one text for the simple-query protocol. */
export function projectionSql(projection: Projection, events: readonly RecordedEvent[]): string {
  return events
    .flatMap((event) => projection.project(event))
    .map(inlineStatement)
    .join(';\n');
}

/** Applies a batch of events to the schema the transaction points at, in one round trip. */
export async function applyProjection(
  client: pg.ClientBase,
  projection: Projection,
  events: readonly RecordedEvent[],
): Promise<void> {
  const text = projectionSql(projection, events);
  if (text.length > 0) await client.query(text);
}

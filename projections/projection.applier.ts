import type pg from 'pg';
import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import { quoteIdentifier } from '../src/infrastructure/database/database-urls.js';
import type { Projection } from './projection.js';
import { inlineStatement } from './sql-statement.js';

/**
 * Points the open transaction at a read-model schema, as the projector role: the projections'
 * unqualified table names then resolve to that schema, and row-level security applies.
 */
export async function enterReadModelSchema(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query(
    `SET LOCAL ROLE tenancy_projector; SET LOCAL search_path TO ${quoteIdentifier(schema)}, public`,
  );
}

/** Applies a batch of events to the schema the transaction points at, in one round trip. */
export async function applyProjection(
  client: pg.ClientBase,
  projection: Projection,
  events: readonly RecordedEvent[],
): Promise<void> {
  const statements = events.flatMap((event) => projection.project(event)).map(inlineStatement);
  if (statements.length > 0) await client.query(statements.join(';\n'));
}

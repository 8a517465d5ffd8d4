import type pg from 'pg';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import { inTransaction } from '../../src/database/transaction.js';
import { enterReadModelSchemaSql, perEventProjectionSql } from '../../projections/projection.applier.js';
import { READ_MODEL_PROJECTIONS } from '../../projections/read-model.projections.js';

/**
 * The reference the bulk and set-based forms are compared with: a fresh read-model schema built by
 * every projection's per-event statements, one transaction per event.
 */
export async function buildPerEventReference(
  client: pg.ClientBase,
  schema: string,
  events: readonly RecordedEvent[],
): Promise<void> {
  await client.query('SELECT rm_create_schema($1)', [schema]);
  for (const event of events) {
    await inTransaction(
      client,
      async () => {
        for (const projection of READ_MODEL_PROJECTIONS) {
          const text = perEventProjectionSql(projection, [event]);
          if (text) await client.query(text);
        }
      },
      `BEGIN; ${enterReadModelSchemaSql(schema)}`,
    );
  }
}

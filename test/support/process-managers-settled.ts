import { CascadeDeletionProcess } from '../../src/application/process-managers/cascade-deletion.process.js';
import type { ProcessManager } from '../../src/consumers/process-manager.js';
import { RootBootstrapProcess } from '../../src/application/process-managers/root-bootstrap.process.js';
import { encodePosition } from '../../src/event-store/position.js';
import type { TestApp } from './test-app.js';
import { waitFor } from './wait-for.js';

/**
 * Waits until every process manager has handled the last event of the log it reacts to. Its
 * reactions are appended before its checkpoint moves, so after this nothing more is coming from it
 * (a quiet period on the log would only guess so, and a loaded machine makes the guess wrong).
 */
export async function processManagersSettled(app: TestApp, timeoutMs = 15_000): Promise<void> {
  const processes: ProcessManager[] = [
    app.app.get(RootBootstrapProcess),
    app.app.get(CascadeDeletionProcess),
  ];
  await waitFor(async () => {
    for (const process of processes) {
      const { rows } = await app.database.pool.query<{
        txid: string;
        global_position: number;
        checkpoint: string | null;
      }>(
        `SELECT e.transaction_id::text AS txid, e.global_position,
                (SELECT position FROM process_checkpoints WHERE process = $2) AS checkpoint
         FROM events e WHERE e.event_type = ANY ($1) AND e.stream_name LIKE 'tenant-%'
         ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1`,
        [process.filter.eventTypes, process.name],
      );
      const last = rows[0];
      if (!last) continue;
      const lastPosition = encodePosition(BigInt(last.txid), BigInt(last.global_position));
      if (last.checkpoint === null || last.checkpoint < lastPosition) return false;
    }
    return true;
  }, timeoutMs);
}

import { randomUUID } from 'node:crypto';
import { call, type ServiceProcess } from '../support/service-process.js';

export interface WriteOutcome {
  readonly workspaceId: string;
  /** The HTTP status, or 'reset' when the request got no answer at all. */
  readonly status: number | 'reset';
  readonly code?: unknown;
  readonly at: number;
}

export interface WriteLoad {
  /** Ends the load and resolves with every request's outcome, in the order they were answered. */
  stop(): Promise<WriteOutcome[]>;
  readonly outcomes: WriteOutcome[];
}

/**
 * `clients` concurrent writers creating workspaces in the tenant, each with an id of its own, one
 * request at a time, until stopped: what a fault test breaks things under.
 */
export function startWriteLoad(service: ServiceProcess, tenantId: string, clients: number): WriteLoad {
  const outcomes: WriteOutcome[] = [];
  let running = true;
  const writer = async (client: number): Promise<void> => {
    for (let n = 0; running; n++) {
      const workspaceId = randomUUID();
      try {
        const response = await call(service, 'POST', `/v1/tenants/${tenantId}/workspaces`, {
          workspaceId,
          name: `w-${client}-${n}`,
        });
        outcomes.push({ workspaceId, status: response.status, code: response.body.code, at: Date.now() });
        // An unavailable database asks the client to wait; a real client would.
        if (response.status === 503) await new Promise((resolve) => setTimeout(resolve, 100));
      } catch {
        outcomes.push({ workspaceId, status: 'reset', at: Date.now() });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  const writers = Array.from({ length: clients }, (_, client) => writer(client));
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(writers);
      return outcomes;
    },
  };
}

/** Counts of each status (and 'reset'), for assertions that read well. */
export function statusCounts(outcomes: readonly WriteOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[String(outcome.status)] = (counts[String(outcome.status)] ?? 0) + 1;
  return counts;
}

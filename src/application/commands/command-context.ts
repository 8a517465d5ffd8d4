import type { EventOrigin } from '../../stored-events/event-metadata.js';

/**
 * Who asked, why, and when: carried by every command into the metadata of the events it causes
 * (see stored-events/event-metadata.ts, which writes it).
 */
export interface CommandContext extends EventOrigin {
  /**
   * The API key the request was made with; absent for the operator and the service's own processes.
   * The command executor decides the command only if the tenant's state shows the key may still act
   * (tenancy/api-key-standing.ts): the key check in front of the request runs before the command
   * waits its turn on the tenant, and a revocation may land in between.
   */
  readonly apiKeyId?: string;
}

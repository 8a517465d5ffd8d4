import type { EventOrigin } from '../../stored-events/event-metadata.js';
import type { AccessRequest } from '../access/access-on-state.js';

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
  /**
   * The access check the request passed in front (absent for the service's own processes). The
   * executor asks it again on the state the command is decided on (access/access-on-state.ts), for
   * the same reason: a move or a deletion may land while the command waits its turn.
   */
  readonly access?: AccessRequest;
}

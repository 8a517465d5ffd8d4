import { Injectable } from '@nestjs/common';
import { TenantCommandExecutor } from '../commands/tenant-command.executor.js';
import {
  decideOnState,
  scopeNeedingState,
  type AccessOutcome,
  type AccessRequest,
} from './access-on-state.js';

/**
 * Feeds the access policy the facts it needs. Subtree checks use the command executor's folded
 * tenant state, not the read model's path column: the state is caught up with the stream on every
 * read (one indexed query for the events since the cached revision, usually none), so a workspace
 * created a moment ago is found at once and one just deleted is gone at once, where the read model
 * could lag and answer a false 404 or a stale yes. Only workspace keys pay for it; the fold itself
 * is shared with the write path's cache.
 */
@Injectable()
export class AccessControl {
  constructor(private readonly tenants: TenantCommandExecutor) {}

  async decide(request: AccessRequest): Promise<AccessOutcome> {
    const scope = scopeNeedingState(request);
    if (scope === undefined) return decideOnState(undefined, request);
    const { state } = await this.tenants.read(scope.tenantId);
    return decideOnState(state, request);
  }
}

import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { foldLog } from '../../consumers/log-follower.js';
import {
  EVENT_STORE,
  type EventFilter,
  type EventStore,
  type Position,
} from '../../event-store/event-store.port.js';
import { tenantIdOfStream, TENANT_STREAM_PREFIX } from '../../tenancy/tenant-stream.js';
import { TenantCommandExecutor } from './tenant-command.executor.js';

const FILTER: EventFilter = { streamPrefixes: [TENANT_STREAM_PREFIX] };
const BATCH_SIZE = 1_000;
const RETRY_DELAY_MS = 1_000;

/**
 * Keeps the command executor's cached tenant states current with the log, so that queries answered
 * from them (permission checks, lookups, key scopes) need no read of their own: the PostgreSQL store
 * wakes the follower by NOTIFY, so another instance's write reaches this instance's states within
 * milliseconds. It starts at the end of the log: a state enters the cache by a full read of its
 * stream, and from then on this follower brings what follows.
 *
 * `hasReached` tells a reader with a Min-Position whether the states already include it; if not (or
 * while the follower is not reading, e.g. after a failed read), the reader catches the tenant up
 * with one indexed read of its stream instead.
 */
@Injectable()
export class TenantStateFollower implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TenantStateFollower');
  private readonly stop = new AbortController();
  private following: Promise<void> | undefined;
  private live = false;
  private position: Position | undefined;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly executor: TenantCommandExecutor,
  ) {}

  onApplicationBootstrap(): void {
    this.following = this.follow();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stop.abort();
    await this.following;
  }

  /** Reading the log as it grows: cached states are at most a moment behind it. */
  isLive(): boolean {
    return this.live;
  }

  /** Whether every event up to this position has been folded into the cached states. */
  hasReached(position: Position): boolean {
    return (
      this.live && this.position !== undefined && this.store.comparePositions(this.position, position) >= 0
    );
  }

  private async follow(): Promise<void> {
    await foldLog({
      store: this.store,
      filter: FILTER,
      from: 'end',
      signal: this.stop.signal,
      batchSize: BATCH_SIZE,
      onReadError: (error, attempt) => {
        this.live = false;
        this.logger.error(`following the log failed (retry ${attempt}): ${describe(error)}`);
      },
      apply: (recorded) => {
        const tenantId = tenantIdOfStream(recorded.streamName);
        if (tenantId !== undefined) this.executor.applyFromLog(tenantId, recorded);
        this.position = recorded.position;
      },
      onCaughtUp: () => {
        this.live = true;
      },
      onApplyError: (error) => {
        this.live = false;
        this.executor.invalidateAll();
        this.logger.error(`following the log stopped, starting again: ${describe(error)}`);
      },
      restartDelayMs: RETRY_DELAY_MS,
    });
    this.live = false;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

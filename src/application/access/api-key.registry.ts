import { timingSafeEqual } from 'node:crypto';
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
  type RecordedEvent,
} from '../../event-store/event-store.port.js';
import type { ApiKeyRole, TenancyEvent, TenancyEventType } from '../../tenancy/tenancy.events.js';
import { TENANT_STREAM_PREFIX } from '../../tenancy/tenant-stream.js';
import { decodeTenancyEvent, UnknownEventError } from '../../stored-events/tenancy-event.codec.js';
import { digestOfSecretHash, secretDigestOf } from './api-key-secret.js';

export interface RegisteredKey {
  readonly apiKeyId: string;
  readonly tenantId: string;
  readonly role: ApiKeyRole;
  readonly workspaceId: string | null;
}

interface Entry {
  readonly key: RegisteredKey;
  readonly digest: Buffer;
}

const FOLLOWED_TYPES: readonly TenancyEventType[] = [
  'ApiKeyIssued',
  'ApiKeyRevoked',
  'TenantDeletionStarted',
  'TenantDeleted',
];
const FILTER: EventFilter = { streamPrefixes: [TENANT_STREAM_PREFIX], eventTypes: FOLLOWED_TYPES };
const BATCH_SIZE = 1_000;
const RETRY_DELAY_MS = 1_000;
// Compared against when no key matches, so that a miss costs the same comparison as a hit.
const NO_DIGEST = Buffer.alloc(32);

/**
 * Every instance's own copy of the live API keys, fed from the log: verifying a key never reaches
 * the event store. It follows the log from the start (keys are few and the read is filtered on the
 * server to key and tenant-deletion events), as every consumer does (followLog): the PostgreSQL
 * store wakes it by NOTIFY and polls every 500 ms, so a revocation on any instance is applied
 * everywhere well within a second, and a failed read is retried where it left off.
 *
 * Keys are indexed by the SHA-256 digest of their secret. Revoked keys (by tenant and id) and closed
 * tenants are remembered for good, so that a write-through from this instance and a late delivery
 * of an older event can arrive in either order without bringing a dead key back.
 */
@Injectable()
export class ApiKeyRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ApiKeyRegistry');
  private readonly byDigest = new Map<string, Entry>();
  private readonly digestsByTenant = new Map<string, Set<string>>();
  // `${tenantId}/${apiKeyId}`: key ids are unique within a tenant only (a client may choose one).
  private readonly revokedKeys = new Set<string>();
  private readonly closedTenants = new Set<string>();
  private readonly stop = new AbortController();
  private caughtUp = false;
  /** The key event the fold stopped at, which only a newer version can read: it stays there. */
  private stoppedAt: UnknownEventError | undefined;
  private readonly caughtUpSignal: Promise<void>;
  private markCaughtUp: () => void = () => undefined;
  private following: Promise<void> | undefined;

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {
    this.caughtUpSignal = new Promise((resolve) => {
      this.markCaughtUp = resolve;
    });
  }

  onApplicationBootstrap(): void {
    // Not awaited: the operator key must work while tenant keys are still being loaded.
    this.following = this.follow();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stop.abort();
    await this.following;
  }

  /** True once the registry has read the log up to where it stood at start. */
  isReady(): boolean {
    return this.caughtUp;
  }

  /** Resolves once it is ready, or once it has stopped at an event it cannot read. */
  whenReady(): Promise<void> {
    return this.caughtUpSignal;
  }

  /**
   * The key event this registry cannot read (a newer version wrote it). Whether that event ends a
   * key cannot be told, so no tenant key is to be trusted by this instance from then on.
   */
  unreadableEvent(): UnknownEventError | undefined {
    return this.stoppedAt;
  }

  /** The live key with this secret, if any. Constant-time in the secret's content. */
  verify(secret: string): RegisteredKey | undefined {
    const digest = secretDigestOf(secret);
    const entry = this.byDigest.get(digest.toString('hex'));
    const equal = timingSafeEqual(digest, entry?.digest ?? NO_DIGEST);
    return equal && entry !== undefined ? entry.key : undefined;
  }

  /**
   * Whether a key that was verified still stands here: it has not been revoked and its tenant's
   * deletion has not started. For work that outlives the request the key was checked on (an event
   * stream), which must stop once the key does, or once this registry cannot tell (unreadableEvent).
   */
  stillStands(key: RegisteredKey): boolean {
    if (this.stoppedAt !== undefined) return false;
    return !this.revokedKeys.has(`${key.tenantId}/${key.apiKeyId}`) && !this.closedTenants.has(key.tenantId);
  }

  /**
   * Applies events this instance has just appended, so that a key works (or stops working) here
   * at once, before the subscription brings the same events back.
   */
  applyAppended(events: readonly TenancyEvent[]): void {
    for (const event of events) this.apply(event);
  }

  private follow(): Promise<void> {
    return foldLog({
      store: this.store,
      filter: FILTER,
      from: 'start',
      signal: this.stop.signal,
      batchSize: BATCH_SIZE,
      onReadError: (error, attempt) =>
        this.logger.error(`following the log failed (retry ${attempt}): ${describe(error)}`),
      apply: (recorded) => this.applyRecorded(recorded),
      onCaughtUp: () => {
        if (this.caughtUp) return;
        this.caughtUp = true;
        this.markCaughtUp();
      },
      // An event this registry cannot read: it stays where it is (a key event must never be
      // skipped) and tries again, so an upgraded reader on the same log can take over.
      onApplyError: (error) => {
        if (!(error instanceof UnknownEventError)) {
          this.logger.error(`applying a key event failed, retrying: ${describe(error)}`);
          return;
        }
        // Said once per event, not at every try: it stands until an upgrade.
        if (this.stoppedAt?.recorded.position !== error.recorded.position) {
          this.logger.warn(
            `stopped at a key event a newer version wrote (${error.message}); tenant keys are refused until this instance is upgraded`,
          );
        }
        this.stoppedAt = error;
        // It will load no further: whoever waits for it has its answer (unreadableEvent).
        this.markCaughtUp();
      },
      restartDelayMs: RETRY_DELAY_MS,
    });
  }

  private applyRecorded(recorded: RecordedEvent): void {
    this.apply(decodeTenancyEvent(recorded));
  }

  private apply(event: TenancyEvent): void {
    switch (event.type) {
      case 'ApiKeyIssued': {
        const { apiKeyId, tenantId, role, workspaceId, secretHash } = event.data;
        const digest = digestOfSecretHash(secretHash);
        if (
          digest === undefined ||
          this.revokedKeys.has(`${tenantId}/${apiKeyId}`) ||
          this.closedTenants.has(tenantId)
        )
          return;
        const hex = digest.toString('hex');
        this.byDigest.set(hex, { key: { apiKeyId, tenantId, role, workspaceId }, digest });
        let digests = this.digestsByTenant.get(tenantId);
        if (digests === undefined) {
          digests = new Set();
          this.digestsByTenant.set(tenantId, digests);
        }
        digests.add(hex);
        return;
      }
      case 'ApiKeyRevoked': {
        this.revokedKeys.add(`${event.data.tenantId}/${event.data.apiKeyId}`);
        const digests = this.digestsByTenant.get(event.data.tenantId);
        for (const hex of digests ?? []) {
          if (this.byDigest.get(hex)?.key.apiKeyId === event.data.apiKeyId) {
            this.byDigest.delete(hex);
            digests?.delete(hex);
          }
        }
        return;
      }
      case 'TenantDeletionStarted':
      case 'TenantDeleted': {
        // A tenant on its way out accepts no commands anyway; its keys stop at the first sign.
        this.closedTenants.add(event.data.tenantId);
        for (const hex of this.digestsByTenant.get(event.data.tenantId) ?? []) this.byDigest.delete(hex);
        this.digestsByTenant.delete(event.data.tenantId);
        return;
      }
      default:
        return;
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

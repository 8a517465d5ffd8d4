import { Inject, Injectable } from '@nestjs/common';
import {
  ConcurrencyError,
  EVENT_STORE,
  type EventStore,
  type Position,
  type RecordedEvent,
} from '../../event-store/event-store.port.js';
import type { TenancyCommand } from '../../tenancy/tenancy.commands.js';
import { decide, evolve, initialState } from '../../tenancy/tenancy.decider.js';
import type { TenancyEvent } from '../../tenancy/tenancy.events.js';
import type { TenantState } from '../../tenancy/tenant.state.js';
import { tenantStreamName } from '../../tenancy/tenant-stream.js';
import { Metrics, type CommandOutcome as MetricsCommandOutcome } from '../../observability/metrics.js';
import { ActingApiKeyInactive, TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';
import { requireActingApiKey } from '../../tenancy/api-key-standing.js';
import { AccessForbidden, requireAccessOnState } from '../access/access-refusal.js';
import { toEventToAppend } from '../../stored-events/event-metadata.js';
import type { CommandContext } from './command-context.js';
import { KeyedMutex } from './keyed-mutex.js';
import { decodeTenancyEvent } from '../../stored-events/tenancy-event.codec.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import type { Quotas } from '../../tenancy/quotas.js';
import { configuredQuotaDefaults } from './tenant-quotas.js';

/** How many tenants' folded states one instance keeps at most, however small (TENANCY_STATE_CACHE_EVENTS bounds their size). */
const CACHED_TENANTS = 2_000;
/** Attempts before a command that keeps losing the race to other instances gives up. */
const MAX_ATTEMPTS = 25;

export interface CommandOutcome {
  readonly events: readonly TenancyEvent[];
  /** The tenant after the command; read it before the next command on this tenant. */
  readonly state: TenantState;
  /** The stream's revision after the command; undefined when the stream does not exist. */
  readonly revision: number | undefined;
  /** Log position of the last event appended; undefined when the command changed nothing. */
  readonly position: Position | undefined;
}

/**
 * A client's If-Match: the revisions of the tenant stream at which it wants a command applied, any
 * one of them (a list of entity tags matches when one does). Undefined: unconditional.
 */
export type IfMatch = readonly number[];

export interface ExecuteOptions {
  /** The client's If-Match: the command applies only at one of these revisions. */
  readonly ifMatch?: IfMatch | undefined;
  /**
   * Work outside the log that must be done before the events are recorded, and only for a command
   * that was decided to append them (an erasure deletes the person's key here): it runs after the
   * decision on a caught-up state, once per attempt that reaches the append. A refusal (a stale
   * If-Match, a revoked key, a rule) never runs it.
   */
  readonly beforeAppend?: (state: TenantState) => Promise<void>;
}

/** The stream revision a client expected is no longer the current one. */
export class RevisionMismatchError extends Error {
  override name = 'RevisionMismatchError';
  constructor(
    readonly expected: IfMatch,
    readonly actual: number | undefined,
  ) {
    super(
      expected.length === 0
        ? `If-Match names no revision (a weak tag, W/"3", never matches); the tenant is at ${actual ?? 'no revision'}`
        : `expected revision ${expected.join(' or ')}, the tenant is at ${actual ?? 'no revision'}`,
    );
  }
}

/**
 * The one comparison of a client's If-Match with the tenant stream's revision: refuses unless the
 * revision is one the client named. For a command that must refuse before it does anything outside
 * the tenant's stream (a name reserved, a key made or deleted); the executor checks again on the
 * append.
 */
export function requireIfMatch(ifMatch: IfMatch | undefined, revision: number | undefined): void {
  if (ifMatch !== undefined && (revision === undefined || !ifMatch.includes(revision)))
    throw new RevisionMismatchError(ifMatch, revision);
}

function outcomeOfFailure(error: unknown): MetricsCommandOutcome {
  if (
    error instanceof TenancyRuleViolation ||
    error instanceof ActingApiKeyInactive ||
    error instanceof AccessForbidden
  )
    return 'rejected';
  if (error instanceof RevisionMismatchError || error instanceof ConcurrencyError) return 'conflict';
  return 'failed';
}

interface CachedTenant {
  state: TenantState;
  revision: number | undefined;
  /** Log position of the event at `revision`, when known. */
  position: Position | undefined;
  /** The log brought an event this state could not take in order: catch up before trusting it. */
  stale: boolean;
  /** A catch-up read is under way: events from the log are left to it. */
  loading: boolean;
  /** The highest revision the log brought during the catch-up read. */
  heardDuringLoad: number;
}

/** A tenant's folded state as of one revision, for answers that need no command. */
export interface TenantSnapshot {
  readonly state: TenantState;
  readonly revision: number | undefined;
  /** Log position of the last event folded in; undefined when the stream does not exist. */
  readonly position: Position | undefined;
}

/** Weight of a cached state: the events folded into it (its memory grows with them). */
function eventsIn(tenant: CachedTenant): number {
  return (tenant.revision ?? -1) + 1;
}

/**
 * Load, decide, append: the one path every tenancy command takes.
 *
 * The folded state of each recently used tenant stays in memory together with its revision, so a
 * command reads only the events appended since (by other instances) instead of re-folding the whole
 * stream; a tenant with 100,000 workspaces costs the same per command as a small one. The states
 * kept hold at most TENANCY_STATE_CACHE_EVENTS events together (least recently used out first; the
 * tenant in use stays whatever its size): a service catching up on a long log folds every tenant
 * once, and a bound on the count of tenants alone let that take the process to 800 MiB. Commands on
 * one tenant take turns inside this instance; between instances the expected revision on the append
 * decides, and the loser catches up and decides again.
 */
@Injectable()
export class TenantCommandExecutor {
  private readonly cache = new Map<string, CachedTenant>();
  private readonly turns = new KeyedMutex();
  /** The quotas of tenants that set none of their own. */
  readonly quotaDefaults: Quotas;
  private readonly eventBudget: number;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.quotaDefaults = configuredQuotaDefaults(config);
    this.eventBudget = config.stateCacheEvents;
    metrics.reportStateCacheWith(() => ({ tenants: this.cache.size, events: this.cachedEvents() }));
  }

  async execute(
    command: TenancyCommand,
    context: CommandContext,
    options: ExecuteOptions = {},
  ): Promise<CommandOutcome> {
    try {
      const outcome = await this.decideAndAppend(command, context, options);
      this.metrics.commands.inc({
        command: command.type,
        outcome: outcome.events.length > 0 ? 'applied' : 'unchanged',
      });
      return outcome;
    } catch (error) {
      this.metrics.commands.inc({ command: command.type, outcome: outcomeOfFailure(error) });
      throw error;
    }
  }

  /**
   * Counts a command its handler refused, or failed to carry out, before it reached execute() (a
   * check made first so that nothing outside the tenant's stream is touched for it), by the same
   * outcomes execute() counts its own with.
   */
  countRefusedBeforeDecision(commandType: TenancyCommand['type'], error: unknown): void {
    this.metrics.commands.inc({ command: commandType, outcome: outcomeOfFailure(error) });
  }

  private decideAndAppend(
    command: TenancyCommand,
    context: CommandContext,
    options: ExecuteOptions,
  ): Promise<CommandOutcome> {
    return this.turns.run(command.tenantId, async () => {
      // A cached state is usually current (this instance wrote the last events), so the command is
      // decided on it without a read, and the expected revision on the append checks that it was.
      // Anything short of a successful append on a cached state (a conflict, a refusal, nothing
      // to do) is decided again on a caught-up state before it is answered.
      let tenant = this.touch(command.tenantId);
      let caughtUp = false;
      if (!tenant || tenant.stale || options.ifMatch !== undefined) {
        tenant = await this.load(command.tenantId);
        caughtUp = true;
      }
      for (let attempt = 1; ; attempt++) {
        requireIfMatch(options.ifMatch, tenant.revision);
        let events: TenancyEvent[];
        try {
          // The key and its reach were checked before the command waited its turn; both must still
          // hold on this state.
          if (context.apiKeyId !== undefined) requireActingApiKey(tenant.state, context.apiKeyId);
          if (context.access !== undefined) requireAccessOnState(tenant.state, context.access);
          events = decide(command, tenant.state, this.quotaDefaults);
        } catch (error) {
          if (caughtUp) throw error;
          tenant = await this.load(command.tenantId);
          caughtUp = true;
          continue;
        }
        if (events.length === 0 || (options.beforeAppend && !caughtUp)) {
          if (caughtUp)
            return { events, state: tenant.state, revision: tenant.revision, position: undefined };
          tenant = await this.load(command.tenantId);
          caughtUp = true;
          continue;
        }
        await options.beforeAppend?.(tenant.state);
        try {
          const result = await this.store.appendToStream(
            tenantStreamName(command.tenantId),
            events.map((event) => toEventToAppend(event, context)),
            tenant.revision ?? 'no_stream',
          );
          // The log follower may have folded some of these in already (it guards by revision too).
          const first = result.nextExpectedRevision - events.length + 1;
          events.forEach((event, index) => {
            if (first + index === (tenant!.revision ?? -1) + 1) {
              tenant!.state = evolve(tenant!.state, event);
              tenant!.revision = first + index;
            }
          });
          if (tenant.revision === result.nextExpectedRevision) tenant.position = result.position;
          this.keepWithinBounds(command.tenantId);
          return { events, state: tenant.state, revision: tenant.revision, position: result.position };
        } catch (error) {
          if (!(error instanceof ConcurrencyError)) throw error;
          if (attempt >= MAX_ATTEMPTS) throw error;
          // With If-Match, the caught-up state is checked against it again at the top: a change in
          // between leaves the tenant at a revision the client named only if it listed that one too.
          if (caughtUp && options.ifMatch === undefined) {
            // Lost a race with another instance: back off a little so the rivals spread out.
            this.metrics.concurrencyRetries.inc();
            await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * attempt)));
          }
          tenant = await this.load(command.tenantId);
          caughtUp = true;
        }
      }
    });
  }

  /** The tenant as of now, caught up with the store; for answers that need no command. */
  read(tenantId: string): Promise<TenantSnapshot> {
    return this.turns.run(tenantId, async () => {
      const { state, revision, position } = await this.load(tenantId);
      return { state, revision, position };
    });
  }

  /**
   * The cached state as it is, without any I/O; undefined when the tenant is not cached or its
   * state is not known to be in order (a catch-up is due or under way). Current only as far as the
   * log follower feeding applyFromLog has read.
   */
  cached(tenantId: string): TenantSnapshot | undefined {
    const tenant = this.touch(tenantId);
    if (tenant === undefined || tenant.stale || tenant.loading) return undefined;
    return { state: tenant.state, revision: tenant.revision, position: tenant.position };
  }

  /**
   * Folds an event read from the log into the tenant's cached state, so that queries answered from
   * the cache keep up with other instances' writes without a read of their own. Only the next
   * revision is taken; an event already folded in is ignored, and one that skips ahead marks the
   * state for a catch-up. Tenants not in the cache are left alone: their first use reads them.
   */
  applyFromLog(tenantId: string, recorded: RecordedEvent): void {
    const tenant = this.cache.get(tenantId);
    if (tenant === undefined) return;
    const next = (tenant.revision ?? -1) + 1;
    if (recorded.revision < next) return;
    if (tenant.loading) {
      tenant.heardDuringLoad = Math.max(tenant.heardDuringLoad, recorded.revision);
      return;
    }
    if (recorded.revision > next) {
      tenant.stale = true;
      return;
    }
    try {
      tenant.state = evolve(tenant.state, decodeTenancyEvent(recorded));
    } catch {
      // Not readable here (a newer writer's event): the next catch-up reports it to its caller.
      tenant.stale = true;
      return;
    }
    tenant.revision = recorded.revision;
    tenant.position = recorded.position;
  }

  /** Every cached state is suspect (the follower lost its place): each is read again on next use. */
  invalidateAll(): void {
    for (const tenant of this.cache.values()) tenant.stale = true;
  }

  /**
   * Log position of one event of the tenant's stream (its last one when no revision is given): what a
   * write response reports when the command repeated an earlier one and appended nothing.
   */
  async positionAt(tenantId: string, revision?: number): Promise<Position | undefined> {
    const options =
      revision === undefined
        ? { direction: 'backwards' as const, maxCount: 1 }
        : { fromRevision: revision, maxCount: 1 };
    for await (const event of this.store.readStream(tenantStreamName(tenantId), options))
      return event.position;
    return undefined;
  }

  private async load(tenantId: string): Promise<CachedTenant> {
    let tenant = this.touch(tenantId);
    if (!tenant) {
      tenant = {
        state: initialState(),
        revision: undefined,
        position: undefined,
        stale: false,
        loading: false,
        heardDuringLoad: -1,
      };
      this.cache.set(tenantId, tenant);
    }
    const from = tenant.revision === undefined ? 0 : tenant.revision + 1;
    // Whatever the follower brings meanwhile is left to this read; an event it brought that the
    // read did not reach (committed after the read began) leaves the state due for another.
    tenant.stale = false;
    tenant.loading = true;
    tenant.heardDuringLoad = -1;
    try {
      for await (const recorded of this.store.readStream(tenantStreamName(tenantId), {
        fromRevision: from,
      })) {
        if (recorded.revision <= (tenant.revision ?? -1)) continue;
        tenant.state = evolve(tenant.state, decodeTenancyEvent(recorded));
        tenant.revision = recorded.revision;
        tenant.position = recorded.position;
      }
    } catch (error) {
      // A half-applied catch-up must not be trusted by the next command.
      this.cache.delete(tenantId);
      throw error;
    } finally {
      tenant.loading = false;
    }
    if (tenant.heardDuringLoad > (tenant.revision ?? -1)) tenant.stale = true;
    this.keepWithinBounds(tenantId);
    return tenant;
  }

  /** The tenant's cached state, now the most recently used (the Map keeps the least recent first). */
  private touch(tenantId: string): CachedTenant | undefined {
    const tenant = this.cache.get(tenantId);
    if (tenant) {
      this.cache.delete(tenantId);
      this.cache.set(tenantId, tenant);
    }
    return tenant;
  }

  private cachedEvents(): number {
    let events = 0;
    for (const tenant of this.cache.values()) events += eventsIn(tenant);
    return events;
  }

  /**
   * Makes the tenant just used the most recent (others may have been used while it was read or
   * appended to), then lets the least recently used states go until both bounds hold: the tenant in
   * use stays whatever its size. Summed afresh each time: a state evicted while its command is
   * still running keeps growing outside the cache, so a running total would drift.
   */
  private keepWithinBounds(tenantId: string): void {
    this.touch(tenantId);
    let events = this.cachedEvents();
    for (const [leastRecent, tenant] of this.cache) {
      if (this.cache.size <= 1) return;
      if (this.cache.size <= CACHED_TENANTS && events <= this.eventBudget) return;
      this.cache.delete(leastRecent);
      events -= eventsIn(tenant);
    }
  }
}

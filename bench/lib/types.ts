import type pg from 'pg';
import type { EventStore } from '../../src/event-store/event-store.port.js';
import type { HttpClient } from './http.js';
import type { RssSampler } from './rss.js';

export type Size = 'quick' | 'full';

/** One bound a scenario must meet: `metric` names a key of the result's `metrics`, or figure/ratio. */
export interface TargetCheck {
  readonly metric: string;
  readonly op: '>=' | '<=';
  readonly value: number;
}

export interface Target {
  /** As written in the issue, e.g. ">= 1,500 commands/s, p99 <= 25 ms". */
  readonly text: string;
  readonly checks: readonly TargetCheck[];
}

export type ScenarioStatus = 'pass' | 'fail' | 'not run' | 'error';

export interface ScenarioOutcome {
  /** Absent only when the scenario did not run. */
  readonly figure?: number;
  readonly unit?: string;
  readonly ceiling?: number;
  readonly ceilingUnit?: string;
  /** figure / ceiling unless the scenario says otherwise in its notes. */
  readonly ratio?: number;
  /** Every number a target check may name, plus anything else worth keeping (latencies, counts). */
  readonly metrics?: Readonly<Record<string, number>>;
  /** What was counted to prove the work happened (responses, events, rows). */
  readonly verified?: Readonly<Record<string, number | string | boolean>>;
  /** False when a count did not match: the scenario then fails whatever its figure. */
  readonly verifiedOk?: boolean;
  readonly notes?: readonly string[];
  /** Set when the scenario could not run; the reason is shown in place of a figure. */
  readonly notRun?: string;
}

export interface ScenarioResult extends ScenarioOutcome {
  readonly id: string;
  readonly description: string;
  readonly target: Target;
  readonly status: ScenarioStatus;
  readonly durationSeconds: number;
  readonly error?: string;
}

export interface ServiceHandle {
  readonly baseUrl: string;
  readonly pid: number;
  readonly operatorKey: string;
  readonly logFile: string;
}

/** What every scenario gets: the database and a place to share measurements. */
export interface StoreContext {
  readonly size: Size;
  /** Short random tag: stream names, tenant names and scratch objects of this run carry it. */
  readonly runTag: string;
  /** Superuser URL of the benchmark's own PostgreSQL server (database `postgres`). */
  readonly serverUrl: string;
  /** The database the service runs on. */
  readonly databaseUrl: string;
  /** Superuser pool on that database, for seeding, counting and ceilings (bypasses RLS). */
  readonly pool: pg.Pool;
  /** The EventStore port on its own pool, for seeding. */
  readonly eventStore: EventStore;
  /** Measurements one scenario leaves for another (the append ceiling, RSS during commands). */
  readonly shared: Map<string, unknown>;
  log(line: string): void;
  /** Runs `cleanup` at the end of the run (for something several scenarios share). */
  defer(cleanup: () => Promise<void>): void;
}

/** What a scenario run against the service gets besides: the running service. */
export interface BenchContext extends StoreContext {
  readonly service: ServiceHandle;
  readonly http: HttpClient;
  readonly rss: RssSampler;
}

export interface ServiceScenario {
  readonly id: string;
  readonly description: string;
  readonly target: Target;
  readonly beforeService?: false;
  run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome>;
}

/** A scenario of the database and the EventStore port alone: it runs before the service starts. */
export interface PortScenario {
  readonly id: string;
  readonly description: string;
  readonly target: Target;
  readonly beforeService: true;
  run(ctx: StoreContext, size: Size): Promise<ScenarioOutcome>;
}

export type Scenario = ServiceScenario | PortScenario;

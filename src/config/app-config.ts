import path from 'node:path';
import { z } from 'zod';

/**
 * One setting read from the environment. `schema` turns the (trimmed, non-empty) text into the
 * value; `default` is text too and goes through the same schema, so a default can never be a value
 * the schema would refuse. A setting without a default is optional (undefined when unset).
 */
interface Setting<Schema extends z.ZodType<unknown, string>> {
  readonly variable: string;
  readonly schema: Schema;
  readonly default?: string;
  /** What the README's configuration table says about it. */
  readonly meaning: string;
  /** Its value never appears in an error message or a log line. */
  readonly secret?: boolean;
}

/** Keeps the exact shape of a definition, so that AppConfig knows which settings have a default. */
function setting<const Definition extends Setting<z.ZodType<unknown, string>>>(
  definition: Definition,
): Definition {
  return definition;
}

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );

/** Only the two words: `flase`, `yes` or `0` are mistakes to report, not values to guess at. */
const boolean = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true');

const urlWithScheme = (schemes: readonly string[]) =>
  z.string().refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { error: `must be a URL starting with ${schemes.map((scheme) => `${scheme}://`).join(' or ')}` },
  );

/** Shorter keys are guessable; a generated one (when unset) has 32 random bytes. */
export const MIN_OPERATOR_KEY_LENGTH = 32;

/**
 * Every setting of the service, in one place. Read once at start (main.ts, the CLI) before anything
 * is opened; every mistake is reported together. The README's configuration table lists each one
 * (a test compares the two). To add a setting, add an entry here: its type, default, validation
 * and documentation all follow from it.
 */
export const SETTINGS = {
  port: setting({
    variable: 'PORT',
    schema: integer(0, 65_535),
    default: '3000',
    meaning: 'HTTP port; 0 lets the system pick a free one, which the log line "listening on port" names',
  }),
  httpMaxConnections: setting({
    variable: 'TENANCY_HTTP_MAX_CONNECTIONS',
    schema: integer(1, 1_000_000),
    meaning:
      'connections the HTTP server holds open at once (idle keep-alive ones and event streams count); one more is closed as it arrives, counted and logged. Unset: the open-files limit less 256 kept for database connections and files (at least half the limit), at most 10000',
  }),
  httpHeadersTimeoutMs: setting({
    variable: 'TENANCY_HTTP_HEADERS_TIMEOUT_MS',
    schema: integer(100, 3_600_000),
    default: '10000',
    meaning:
      "milliseconds a client may take to send a request's headers; then it is answered 408 and its connection closed. At most `TENANCY_HTTP_REQUEST_TIMEOUT_MS`",
  }),
  httpRequestTimeoutMs: setting({
    variable: 'TENANCY_HTTP_REQUEST_TIMEOUT_MS',
    schema: integer(100, 3_600_000),
    default: '30000',
    meaning:
      'milliseconds a client may take to send a whole request, body included; then it is answered 408 and its connection closed. An answer that takes longer (an event stream) is not bounded by it',
  }),
  httpKeepAliveTimeoutMs: setting({
    variable: 'TENANCY_HTTP_KEEP_ALIVE_TIMEOUT_MS',
    schema: integer(100, 3_600_000),
    default: '5000',
    meaning:
      "milliseconds an idle keep-alive connection stays open after an answer. Behind a load balancer that keeps connections to the service, set it above the balancer's idle timeout, or the balancer may send a request on a connection the service is closing",
  }),
  shutdownDelayMs: setting({
    variable: 'TENANCY_SHUTDOWN_DELAY_MS',
    schema: integer(0, 120_000),
    default: '0',
    meaning:
      'milliseconds SIGTERM waits before the service stops taking connections (Ctrl-C and SIGHUP do not wait): meanwhile readiness answers 503 (`shutdown`) and requests are still served, each answer closing its connection, so a load balancer takes the instance out first. Behind one, set it above the time the balancer takes to notice; `0`: at once',
  }),
  databaseStartWaitMs: setting({
    variable: 'TENANCY_DATABASE_START_WAIT_MS',
    schema: integer(0, 3_600_000),
    default: '60000',
    meaning:
      'milliseconds a start waits for a `DATABASE_URL` it cannot reach yet (connection refused or unanswered, a host name not resolving yet, a server still starting up), trying again and logging each try; then it exits 1. `0`: exit 1 at once. The CLI never waits',
  }),
  databaseUrl: setting({
    variable: 'DATABASE_URL',
    schema: urlWithScheme(['postgres', 'postgresql']),
    meaning:
      'PostgreSQL for events (unless `EVENTSTORE_URL`), read models and checkpoints; unset: the embedded PostgreSQL. The user needs CREATEROLE once (migrations create the `tenancy_api` and `tenancy_projector` roles) or the roles must exist and be granted to it. The database must be UTF8: on another encoding the service and the CLI refuse to start.',
    secret: true,
  }),
  dataDir: setting({
    variable: 'TENANCY_DATA_DIR',
    schema: z.string().transform((value) => path.resolve(value)),
    default: '.data',
    meaning: 'data directory: the embedded PostgreSQL and a generated operator key file',
  }),
  eventStoreUrl: setting({
    variable: 'EVENTSTORE_URL',
    schema: urlWithScheme(['esdb', 'esdb+discover', 'kurrentdb', 'kurrentdb+discover', 'kurrent', 'kdb']),
    meaning:
      'keep the events in EventStoreDB/KurrentDB instead ([docs/eventstoredb.md](docs/eventstoredb.md))',
    secret: true,
  }),
  operatorKey: setting({
    variable: 'TENANCY_OPERATOR_KEY',
    schema: z.string().min(MIN_OPERATOR_KEY_LENGTH, {
      error: `must be at least ${MIN_OPERATOR_KEY_LENGTH} characters long`,
    }),
    meaning: `the operator's API key (\`Authorization: Bearer <key>\`), at least ${MIN_OPERATOR_KEY_LENGTH} characters; unset: one is generated per run and written to \`<TENANCY_DATA_DIR>/operator-key\` (mode 600)`,
    secret: true,
  }),
  operatorKeyPrevious: setting({
    variable: 'TENANCY_OPERATOR_KEY_PREVIOUS',
    schema: z.string().min(MIN_OPERATOR_KEY_LENGTH, {
      error: `must be at least ${MIN_OPERATOR_KEY_LENGTH} characters long`,
    }),
    meaning:
      'while the operator key is rotated: the key it replaces, still accepted beside `TENANCY_OPERATOR_KEY` (which it needs); each use is counted in `tenancy_operator_key_previous_uses_total` and logged at most once a minute. Unset it once no client uses it',
    secret: true,
  }),
  defaultTenant: setting({
    variable: 'TENANCY_DEFAULT_TENANT',
    schema: z.string(),
    meaning: 'a tenant name ensured (with its root workspace) at start-up',
  }),
  runConsumers: setting({
    variable: 'TENANCY_RUN_CONSUMERS',
    schema: boolean,
    default: 'true',
    meaning: '`false`: this instance serves HTTP only, no projections or process managers',
  }),
  cascadeBatchSize: setting({
    variable: 'TENANCY_CASCADE_BATCH_SIZE',
    schema: integer(1, 100_000),
    default: '500',
    meaning: 'workspaces a cascade deletes per append',
  }),
  sseHeartbeatMs: setting({
    variable: 'TENANCY_SSE_HEARTBEAT_MS',
    schema: integer(10, 300_000),
    default: '15000',
    meaning: 'an idle `/v1/events/stream` sends a comment this often (milliseconds), so proxies keep it open',
  }),
  sseMaxStreams: setting({
    variable: 'TENANCY_SSE_MAX_STREAMS',
    schema: integer(1, 100_000),
    default: '256',
    meaning: 'event streams this instance serves at once; more are refused with 429 and `Retry-After`',
  }),
  sseMaxStreamsPerKey: setting({
    variable: 'TENANCY_SSE_MAX_STREAMS_PER_KEY',
    schema: integer(1, 100_000),
    default: '16',
    meaning: 'event streams one API key (or the operator key) may hold open at once',
  }),
  rateLimitPerTenant: setting({
    variable: 'TENANCY_RATE_LIMIT_PER_TENANT',
    schema: integer(0, 1_000_000),
    default: '0',
    meaning:
      'requests a second the keys of one tenant may make to this instance, beyond its burst; more are refused with 429 `RATE_LIMITED` and `Retry-After`, before their body is read. `0`: no limit. The operator key is not limited',
  }),
  rateLimitBurst: setting({
    variable: 'TENANCY_RATE_LIMIT_BURST',
    schema: integer(0, 1_000_000),
    default: '0',
    meaning:
      "requests one tenant's keys may make at once, above that rate, after a quiet while; `0`: one second's worth of the rate. Needs `TENANCY_RATE_LIMIT_PER_TENANT`",
  }),
  sseStallTimeoutMs: setting({
    variable: 'TENANCY_SSE_STALL_TIMEOUT_MS',
    schema: integer(100, 3_600_000),
    default: '60000',
    meaning:
      'a stream client that reads nothing for this long (milliseconds) is disconnected; it resumes with `Last-Event-ID`',
  }),
  quotaMaxWorkspaces: setting({
    variable: 'TENANCY_QUOTA_MAX_WORKSPACES',
    schema: integer(0, 10_000_000),
    default: '1000000',
    meaning:
      "a tenant's default quota of workspaces (the root included); a tenant's own quota (`PUT /v1/tenants/{t}/quotas`) takes precedence",
  }),
  quotaMaxDepth: setting({
    variable: 'TENANCY_QUOTA_MAX_DEPTH',
    schema: integer(0, 100_000),
    default: '1000',
    meaning: 'the default deepest level a workspace may be at (the root is at 0, its children at 1)',
  }),
  quotaMaxApiKeys: setting({
    variable: 'TENANCY_QUOTA_MAX_API_KEYS',
    schema: integer(0, 100),
    default: '100',
    meaning: "a tenant's default quota of active API keys (100 at most)",
  }),
  quotaMaxMembers: setting({
    variable: 'TENANCY_QUOTA_MAX_MEMBERS',
    schema: integer(0, 10_000_000),
    default: '100000',
    meaning: "a tenant's default quota of members",
  }),
  quotaMaxGroups: setting({
    variable: 'TENANCY_QUOTA_MAX_GROUPS',
    schema: integer(0, 1_000_000),
    default: '10000',
    meaning: "a tenant's default quota of groups",
  }),
  consumerSessionTimeoutMs: setting({
    variable: 'TENANCY_CONSUMER_SESSION_TIMEOUT_MS',
    schema: integer(500, 3_600_000),
    default: '30000',
    meaning:
      'an instance whose consumer connections stay silent this long (milliseconds; frozen, or cut off without a reset) loses them: PostgreSQL ends those sessions, releasing their locks, and another instance takes the consumers over. A live instance speaks on them every third of it',
  }),
  consumerFailedRetryMs: setting({
    variable: 'TENANCY_CONSUMER_FAILED_RETRY_MS',
    schema: integer(0, 86_400_000),
    default: '60000',
    meaning:
      'a projection or process manager that stopped on an event it could not apply (after 5 attempts; readiness says `degraded`) tries that event again this long after (milliseconds), and again for as long as it fails, never skipping it: once the cause is fixed it carries on without a restart. `0`: only a restart tries it again',
  }),
  logHorizonThresholdMs: setting({
    variable: 'TENANCY_LOG_HORIZON_THRESHOLD_MS',
    schema: integer(100, 3_600_000),
    default: '1000',
    meaning:
      'a transaction open longer than this (milliseconds) anywhere in the PostgreSQL cluster holds the event log back: readiness reports it as degraded and the log names it',
  }),
  stateCacheEvents: setting({
    variable: 'TENANCY_STATE_CACHE_EVENTS',
    schema: integer(1, 100_000_000),
    default: '500000',
    meaning:
      "events of history the folded tenant states this instance keeps in memory may hold together (about 160-300 bytes of heap each); beyond it the least recently used tenants go, and the tenant in use stays whatever its size. Keep it above twice the largest tenant's event count",
  }),
  heapGrowthPercent: setting({
    variable: 'TENANCY_HEAP_GROWTH_PERCENT',
    schema: integer(0, 300),
    default: '100',
    meaning:
      "how far the JavaScript heap may grow beyond what its last full garbage collection kept, in percent: lower keeps resident memory nearer the live data for more collection work; `0`: V8's own choice (up to four times the live data)",
  }),
  logLevel: setting({
    variable: 'LOG_LEVEL',
    schema: z.enum(['debug', 'info', 'warn', 'error'], { error: 'must be debug, info, warn or error' }),
    default: 'info',
    meaning: '`debug`, `info`, `warn` or `error`; logs are JSON lines on standard output',
  }),
} as const;

type Settings = typeof SETTINGS;
type ValueOf<Definition> = Definition extends { schema: infer Schema extends z.ZodType; default: string }
  ? z.output<Schema>
  : Definition extends { schema: infer Schema extends z.ZodType }
    ? z.output<Schema> | undefined
    : never;

/** Every setting the service reads from its environment, typed. */
export type AppConfig = { readonly [Key in keyof Settings]: ValueOf<Settings[Key]> };

/** The environment holds settings that are not valid; `problems` names every one of them. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  }
}

/** Reads every setting; throws one ConfigError naming every invalid setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, definition] of Object.entries(SETTINGS) as [
    string,
    Setting<z.ZodType<unknown, string>>,
  ][]) {
    const given = env[definition.variable]?.trim();
    const raw = given === undefined || given === '' ? definition.default : given;
    if (raw === undefined) {
      values[key] = undefined;
      continue;
    }
    const result = definition.schema.safeParse(raw);
    if (result.success) {
      values[key] = result.data;
    } else {
      const message = result.error.issues[0]?.message ?? 'is not valid';
      problems.push(
        definition.secret
          ? `${definition.variable} ${message}`
          : `${definition.variable} ${message}, not ${JSON.stringify(raw)}`,
      );
    }
  }
  // Node's HTTP server refuses a headers bound longer than the whole request's.
  const { httpHeadersTimeoutMs: headers, httpRequestTimeoutMs: request } = values;
  if (typeof headers === 'number' && typeof request === 'number' && headers > request) {
    problems.push(
      `${SETTINGS.httpHeadersTimeoutMs.variable} must be at most ${SETTINGS.httpRequestTimeoutMs.variable} (${request}), not ${headers}`,
    );
  }
  // A generated key is new at every start: there is nothing to rotate from.
  if (values.operatorKeyPrevious !== undefined && values.operatorKey === undefined) {
    problems.push(
      `${SETTINGS.operatorKeyPrevious.variable} needs ${SETTINGS.operatorKey.variable}: the previous key is accepted beside the current one, never instead of it`,
    );
  }
  // A burst alone would look like a limit: without a rate, nothing is limited.
  const { rateLimitBurst: burst, rateLimitPerTenant: rate } = values;
  if (typeof burst === 'number' && burst > 0 && rate === 0) {
    problems.push(
      `${SETTINGS.rateLimitBurst.variable} needs ${SETTINGS.rateLimitPerTenant.variable}: without a rate, no request is limited`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return values as AppConfig;
}

/** Injection token of the AppConfig the service started with. */
export const APP_CONFIG = Symbol('AppConfig');

/**
 * The benchmark suite: `npm run bench [-- --quick] [-- --only id,id] [-- --cpu-prof]`.
 *
 * Starts a throw-away embedded PostgreSQL, migrates a database, builds the service (tsc, as
 * `npm start` does) and runs it as a child process (`node dist/src/main.js`), runs the scenarios of
 * bench/scenarios/ against it, prints a table and writes the results (BENCHMARKS.md explains them).
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { rmSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PostgresEventStore } from '../src/event-store/postgres/postgres-event-store.js';
import { quoteIdentifier, withDatabase } from '../src/database/database-urls.js';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.server.js';
import { runMigrations } from '../src/database/migrations.js';
import { createPool } from '../src/database/postgres-pool.js';
import { collectGarbage, heapUsedMb } from './lib/heap.js';
import { HttpClient } from './lib/http.js';
import { benchmarksMarkdown, consoleTable, statusOf, writeAtomically, type RunInfo } from './lib/report.js';
import { RssSampler } from './lib/rss.js';
import { buildService, PROJECT_ROOT, startService } from './lib/service.js';
import { round } from './lib/stats.js';
import type { BenchContext, Scenario, ScenarioResult, Size, StoreContext } from './lib/types.js';
import { SCENARIOS } from './scenarios/index.js';
import { PEAK_AFTER_SCENARIO_KEY, type PeakAfterScenario } from './scenarios/memory.js';

const DATABASE = 'tenancy_bench';

interface Options {
  readonly size: Size;
  readonly only: string[] | undefined;
  readonly cpuProf: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  let size: Size = 'full';
  let only: string[] | undefined;
  let cpuProf = false;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (arg === '--quick') size = 'quick';
    else if (arg === '--cpu-prof') cpuProf = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++index] : arg.slice('--only='.length);
      if (!value) throw new Error('--only needs a list of scenario ids, e.g. --only append,commands');
      only = value
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean);
      const unknown = only.filter((id) => !SCENARIOS.some((scenario) => scenario.id === id));
      if (unknown.length > 0) {
        throw new Error(
          `unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`,
        );
      }
    } else if (arg === '--help' || arg === '-h') {
      console.log(
        `usage: npm run bench -- [--quick] [--only ${SCENARIOS.map((s) => s.id).join(',')}] [--cpu-prof]`,
      );
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${arg} (try --help)`);
    }
  }
  return { size, only, cpuProf };
}

const runStarted = performance.now();
function log(line: string): void {
  const seconds = ((performance.now() - runStarted) / 1000).toFixed(1).padStart(6);
  console.log(`[${seconds}s] ${line}`);
}

function gitCommit(): string {
  // Read-only: names the commit the figures belong to.
  const result = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : 'unknown (not a git checkout)';
}

async function runScenario(scenario: Scenario, ctx: BenchContext | StoreContext): Promise<ScenarioResult> {
  log(`scenario ${scenario.id}: ${scenario.description}`);
  // What the scenarios before left in this process's heap is not this one's to carry.
  const before = heapUsedMb();
  if (collectGarbage()) {
    log(
      `  bench process heap: ${round(before, 0)} MiB in use, ${round(heapUsedMb(), 0)} MiB live after a full collection`,
    );
  }
  const started = performance.now();
  let result: ScenarioResult;
  try {
    const outcome = scenario.beforeService
      ? await scenario.run(ctx, ctx.size)
      : await scenario.run(ctx as BenchContext, ctx.size);
    result = {
      id: scenario.id,
      description: scenario.description,
      target: scenario.target,
      ...outcome,
      status: statusOf(outcome, scenario.target),
      durationSeconds: round((performance.now() - started) / 1000, 1),
    };
  } catch (error) {
    log(
      `scenario ${scenario.id} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    result = {
      id: scenario.id,
      description: scenario.description,
      target: scenario.target,
      status: 'error',
      error: error instanceof Error ? error.message : String(error),
      durationSeconds: round((performance.now() - started) / 1000, 1),
    };
  }
  log(
    `scenario ${scenario.id}: ${result.status}${result.figure !== undefined ? `, ${result.figure} ${result.unit ?? ''}` : ''}${result.notRun ? ` (${result.notRun})` : ''} in ${result.durationSeconds} s`,
  );
  return result;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const scenarios = SCENARIOS.filter((scenario) => !options.only || options.only.includes(scenario.id));
  const runTag = randomBytes(3).toString('hex');
  const operatorKey = randomBytes(24).toString('base64url');
  // Not mkdtemp: its 0700 directory would shut out the system user PostgreSQL runs as under root.
  const dataDir = path.join(os.tmpdir(), `tenancy-bench-pg-${randomBytes(6).toString('hex')}`);
  const logFile = path.join(os.tmpdir(), `tenancy-bench-service-${runTag}.log`);
  const profileDir = path.join(os.tmpdir(), `tenancy-bench-profile-${runTag}`);
  const loadBefore = os.loadavg();
  log(`mode ${options.size}, scenarios ${scenarios.map((s) => s.id).join(', ')}`);

  log('building the service (tsc -p tsconfig.build.json)');
  const build = buildService(log);

  log(`starting embedded PostgreSQL in ${dataDir}`);
  const postgres = await startEmbeddedPostgres({ dataDir, persistent: false });
  const cleanups: (() => Promise<unknown>)[] = [
    async () => {
      await postgres.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  ];
  const cleanup = async () => {
    for (const step of cleanups.reverse())
      await step().catch((error: unknown) => log(`cleanup: ${String(error)}`));
    cleanups.length = 0;
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    const admin = new pg.Client({ connectionString: postgres.adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${quoteIdentifier(DATABASE)}`);
    const { rows: versionRows } = await admin.query<{ server_version: string }>('SHOW server_version');
    await admin.end();
    const databaseUrl = withDatabase(postgres.adminUrl, DATABASE);
    const { applied } = await runMigrations(databaseUrl);
    log(`database ${DATABASE} migrated (${applied.join(', ')})`);

    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, application_name: 'bench' });
    const storePool = createPool({ connectionString: databaseUrl, max: 8, applicationName: 'bench-seed' });
    for (const each of [pool, storePool]) each.on('error', (error) => log(`bench pool: ${error.message}`));
    const eventStore = new PostgresEventStore(storePool, databaseUrl);
    cleanups.push(async () => {
      await eventStore.close();
      await storePool.end();
      await pool.end();
    });
    const storeContext: StoreContext = {
      size: options.size,
      runTag,
      serverUrl: postgres.adminUrl,
      databaseUrl,
      pool,
      eventStore,
      shared: new Map(),
      log,
      defer: (cleanup) => cleanups.push(cleanup),
    };

    const results = new Map<string, ScenarioResult>();
    // The port's own scenarios first, on a database nothing else uses yet.
    for (const scenario of scenarios) {
      if (scenario.beforeService) results.set(scenario.id, await runScenario(scenario, storeContext));
    }

    if (options.cpuProf) mkdirSync(profileDir, { recursive: true });
    const service = await startService({
      databaseUrl,
      operatorKey,
      logFile,
      nodeFlags: options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    });
    cleanups.push(async () => {
      const code = await service.stop();
      log(`service stopped (exit ${String(code)}); its log: ${logFile}`);
    });
    log(`service pid ${service.pid} ready at ${service.baseUrl}`);

    const http = new HttpClient(service.baseUrl, operatorKey);
    const rss = new RssSampler(service.pid);
    rss.start();
    cleanups.push(async () => {
      rss.stop();
      await http.close();
    });

    const ctx: BenchContext = {
      ...storeContext,
      service: { baseUrl: service.baseUrl, pid: service.pid, operatorKey, logFile },
      http,
      rss,
    };
    const peakAfter: PeakAfterScenario = [];
    ctx.shared.set(PEAK_AFTER_SCENARIO_KEY, peakAfter);
    for (const scenario of scenarios) {
      if (scenario.beforeService) continue;
      results.set(scenario.id, await runScenario(scenario, ctx));
      const hwmMb = rss.now()?.hwmMb;
      if (hwmMb !== undefined) {
        peakAfter.push({ scenario: scenario.id, hwmMb });
        log(`service VmHWM after ${scenario.id}: ${round(hwmMb, 1)} MiB`);
      }
    }
    const ordered = scenarios.flatMap((scenario) => results.get(scenario.id) ?? []);

    const peak = rss.now();
    await cleanup();

    const cpus = os.cpus();
    const info: RunInfo = {
      date: new Date().toISOString(),
      commit: gitCommit(),
      mode: options.size,
      only: options.only,
      durationSeconds: round((performance.now() - runStarted) / 1000, 1),
      machine: {
        os: `${os.type()} ${os.release()} ${os.arch()}`,
        cpuModel: cpus[0]?.model.trim() ?? 'unknown',
        cpuCount: cpus.length,
        totalMemoryGiB: round(os.totalmem() / 1024 ** 3, 1),
        node: process.version,
        postgres: versionRows[0]?.server_version ?? 'unknown',
        loadAverageBefore: loadBefore.map((value) => round(value, 2)),
        loadAverageAfter: os.loadavg().map((value) => round(value, 2)),
      },
      service: `node dist/src/main.js (built by tsc -p tsconfig.build.json), NODE_ENV=production, one process; VmHWM at the end of the run ${peak ? `${round(peak.hwmMb, 1)} MiB` : 'unknown'}`,
      buildWarnings: build.warnings,
    };

    console.log(`\n${consoleTable(ordered)}\n`);
    const resultsDir = path.join(PROJECT_ROOT, 'bench', 'results');
    const json = `${JSON.stringify({ ...info, scenarios: ordered }, null, 2)}\n`;
    if (options.size === 'full' && !options.only) {
      writeAtomically(path.join(resultsDir, 'latest.json'), json);
      const markdownFile = path.join(PROJECT_ROOT, 'BENCHMARKS.md');
      writeAtomically(markdownFile, benchmarksMarkdown(markdownFile, info, ordered));
      log('wrote BENCHMARKS.md and bench/results/latest.json');
    } else {
      const name = options.size === 'quick' && !options.only ? 'quick.json' : 'partial.json';
      writeAtomically(path.join(resultsDir, name), json);
      log(`wrote bench/results/${name} (BENCHMARKS.md is written by full runs of every scenario only)`);
    }
    if (options.cpuProf) log(`CPU profile of the service in ${profileDir}`);

    // Misses are results; a scenario that broke or whose work could not be verified is a failure.
    const broken = ordered.filter((r) => r.status === 'error' || r.verifiedOk === false);
    if (broken.length > 0) log(`harness failures: ${broken.map((r) => r.id).join(', ')}`);
    return broken.length > 0 ? 1 : 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

import type pg from 'pg';
import { READ_MODEL_PROJECTIONS } from '../../../projections/read-model.projections.js';
import {
  replayReadModels,
  REPLAY_SCHEMA,
  ReplayRunningError,
} from '../../../projections/read-model.replay.js';
import { describeRelease } from '../../app/release.js';
import { newerMigrations } from '../../database/migrations.js';
import { UsageError, type CliCommand } from '../cli-command.js';
import { writeRespectingBackPressure } from '../output.js';
import { rebuildProgress } from '../progress-bar.js';

export const replayCommand: CliCommand = {
  name: 'replay',
  migrates: true,
  summary: 'rebuild the read models from position zero and swap them in, while the service keeps serving',
  help: `Usage: tenancy replay [--projection <name>] [--fresh]

Replays the whole event log from position zero into fresh tables (schema ${REPLAY_SCHEMA}) while the
service keeps answering from the live read models, then swaps the rebuilt tables in within one
short transaction. The running projectors notice the swap and continue from the rebuilt tables.
Interrupted, or failed (a full disk), the next run of the same release resumes where it stopped
(another release's starts over); a failed run says how much disk its kept tables take. One replay
of a database runs at a time: a second one exits 1 at once, changing nothing; so does one on a
database a newer version migrated (its read models are that version's to rebuild).

Options:
  --projection <name>  only this projection (${READ_MODEL_PROJECTIONS.map((projection) => projection.name).join(', ')})
  --fresh              drop an unfinished replay and start again from zero
  -h, --help           show this help
`,
  options: { projection: { type: 'string' }, fresh: { type: 'boolean' } },
  async run(options, _positionals, context) {
    const projections =
      typeof options.projection === 'string'
        ? READ_MODEL_PROJECTIONS.filter((projection) => projection.name === options.projection)
        : READ_MODEL_PROJECTIONS;
    if (projections.length === 0) throw new UsageError(`no projection named ${String(options.projection)}`);
    const store = await context.eventStore();
    const pool = await context.database();
    const newer = await newerMigrations(pool);
    if (newer.length > 0) {
      // Its own projections would fill tables a newer version shaped, under that version's service.
      throw new Error(
        `the database's schema was migrated by a newer version (${newer.join(', ')}): its read models are that version's to rebuild; run \`tenancy replay\` of that version`,
      );
    }
    const client = await pool.connect();
    try {
      const total = await countTenantEvents(client);
      const progress = rebuildProgress(context.stderr, total);
      // Stopped however the run ends: a bar left running would keep the process alive for ever.
      const outcome = await replayReadModels({
        store,
        client,
        projections,
        fresh: options.fresh === true,
        onProgress: progress.onProgress,
        onSwapWaiting: () => {
          progress.done();
          context.stderr.write(
            'the copy is ready; waiting for a transaction that holds the live read models to end (the service keeps serving meanwhile)\n',
          );
        },
        pool,
        release: describeRelease(),
        onStartOver: (keptBy) => {
          context.stderr.write(
            `the unfinished replay kept in ${REPLAY_SCHEMA} was built by ${keptBy}, not by this release: starting over\n`,
          );
        },
      })
        .finally(progress.done)
        .catch(async (error: unknown) => {
          if (!(error instanceof ReplayRunningError)) await tellWhatIsKept(pool, context.stderr);
          throw error;
        });
      for (const [name, events] of outcome.events) {
        await writeRespectingBackPressure(
          context.stdout,
          `${name}: ${events} events replayed${outcome.resumed ? ' (resumed)' : ''}, swapped in\n`,
        );
      }
      return 0;
    } finally {
      client.release();
    }
  },
};

/** The events a projection will read, for the bar's total; unknown where events live elsewhere. */
export async function countTenantEvents(client: pg.ClientBase): Promise<number | undefined> {
  try {
    const { rows } = await client.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM events WHERE stream_name LIKE 'tenant-%'`,
    );
    return rows[0]?.count;
  } catch {
    return undefined;
  }
}

/**
 * After a replay that failed (a full disk, a lost connection): what it rebuilt so far stays in its
 * schema, to be resumed, and holds disk space meanwhile. Says so, with the size, ahead of the
 * error's own line; says nothing if the database cannot be asked.
 */
async function tellWhatIsKept(pool: pg.Pool, stderr: NodeJS.WritableStream): Promise<void> {
  try {
    const { rows } = await pool.query<{ bytes: string }>(
      `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')`,
      [REPLAY_SCHEMA],
    );
    const bytes = rows[0]?.bytes;
    if (bytes === undefined || bytes === null) return;
    stderr.write(
      `tenancy replay: stopped; what it rebuilt is kept in schema ${REPLAY_SCHEMA} (${(Number(bytes) / 1024 ** 2).toFixed(1)} MB): \`tenancy replay\` resumes it once the cause below is put right, \`tenancy replay --fresh\` starts it over\n`,
    );
  } catch {
    // The database is away: the error below says so.
  }
}

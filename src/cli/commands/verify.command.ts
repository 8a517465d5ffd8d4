import { identical } from '../../../projections/read-model.comparison.js';
import { READ_MODEL_PROJECTIONS } from '../../../projections/read-model.projections.js';
import { verifyReadModels } from '../../../projections/read-model.replay.js';
import type { CliCommand } from '../cli-command.js';
import { writeRespectingBackPressure } from '../output.js';
import { rebuildProgress } from '../progress-bar.js';
import { countTenantEvents } from './replay.command.js';

export const verifyCommand: CliCommand = {
  name: 'verify',
  summary:
    'replay into a scratch schema and compare with the live read models; non-zero exit on any difference',
  help: `Usage: tenancy verify [--json]

Replays the event log into a scratch schema and compares it, table by table and row for row, with
the live read models as of the same log positions. Prints a summary per table and exits with 1 if
any row differs (the check to run before signing off an audit). The scratch schema is dropped,
and so are those of earlier runs that were interrupted or killed before they could drop theirs.

The service may keep writing meanwhile: the comparison is made at one point of the log, the live
projections' checkpoints as one read-only snapshot of the live read models saw them, and the
output names those positions.

Options:
  --json      print the comparison as JSON
  -h, --help  show this help
`,
  options: { json: { type: 'boolean' } },
  async run(options, _positionals, context) {
    const store = await context.eventStore();
    const pool = await context.database();
    const client = await pool.connect();
    try {
      const total = await countTenantEvents(client);
      const progress = rebuildProgress(context.stderr, total, (projection) => `replaying ${projection}`);
      // Stopped however the run ends: a bar left running would keep the process alive for ever.
      const { comparisons, positions } = await verifyReadModels({
        store,
        client,
        onProgress: progress.onProgress,
        pool,
      }).finally(progress.done);
      const same = identical(comparisons);
      if (options.json === true) {
        await writeRespectingBackPressure(
          context.stdout,
          `${JSON.stringify({ identical: same, positions: Object.fromEntries(positions), tables: comparisons }, null, 2)}\n`,
        );
      } else {
        const lines = comparisons.map(
          (table) =>
            `${table.onlyLeft === 0 && table.onlyRight === 0 ? 'ok  ' : 'DIFF'}  ${table.table.padEnd(12)} live ${table.rowsLeft} rows, replayed ${table.rowsRight} rows, ${table.onlyLeft} only live, ${table.onlyRight} only replayed`,
        );
        lines.push(
          `compared at ${comparedAt(positions)}`,
          same ? 'read models match the event log' : 'read models DIFFER from the event log',
        );
        await writeRespectingBackPressure(context.stdout, `${lines.join('\n')}\n`);
      }
      return same ? 0 : 1;
    } finally {
      client.release();
    }
  },
};

/** The point of the log compared at: one position when every projection stood there, else each one's. */
function comparedAt(positions: ReadonlyMap<string, string>): string {
  const distinct = new Set(positions.values());
  if (distinct.size === 0) return 'the start of the log (no projection has applied an event)';
  if (distinct.size === 1) return `log position ${[...distinct][0]}`;
  return READ_MODEL_PROJECTIONS.filter((projection) => positions.has(projection.name))
    .map((projection) => `${projection.name} ${positions.get(projection.name)}`)
    .join(', ');
}

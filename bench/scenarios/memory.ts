import { round } from '../lib/stats.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';
import { commandTenants, runCommandsLoad } from '../lib/workload.js';
import { COMMANDS_MEMORY_KEY, type CommandsMemory } from './commands.js';

/** 300 MB (decimal megabytes, as the target is stated) in MiB, to one decimal, rounded down. */
const MIB_IN_300_MB = Math.floor((300e6 / 2 ** 20) * 10) / 10;

/** ctx.shared key: the service's VmHWM (MiB) after each scenario that ran against it, in run order. */
export const PEAK_AFTER_SCENARIO_KEY = 'servicePeakAfterScenario';

export type PeakAfterScenario = { readonly scenario: string; readonly hwmMb: number }[];

export const memoryScenario: Scenario = {
  id: 'memory',
  description:
    "the service's peak RSS over the whole run (VmHWM after every scenario that loads it: commands, lag, big tenants, the permission scenarios)",
  // The figure is in MiB (/proc's "kB" are KiB), so the 300 MB of the target is 286.1 of them.
  target: {
    text: 'peak over the whole run <= 300 MB (286.1 MiB)',
    checks: [{ metric: 'figure', op: '<=', value: MIB_IN_300_MB }],
  },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    if (!ctx.rss.supported) return { notRun: `/proc/${ctx.rss.pid}/status is not readable (not Linux?)` };
    let commands = ctx.shared.get(COMMANDS_MEMORY_KEY) as CommandsMemory | undefined;
    const notes: string[] = [];
    if (!commands) {
      // Run without `commands` (e.g. --only memory): drive the same load here.
      const tenants = await commandTenants(ctx);
      const started = performance.now();
      const durationMs = size === 'quick' ? 2_000 : 10_000;
      const load = await runCommandsLoad(ctx, {
        tenants,
        durationMs,
        warmupMs: 500,
        namePrefix: `mem-${ctx.runTag}`,
      });
      const window = ctx.rss.peakBetween(started, performance.now());
      commands = { windowPeakMb: window.peakMb, hwmMb: ctx.rss.now()?.hwmMb ?? 0, samples: window.samples };
      notes.push(
        `own commands load of ${durationMs / 1000} s (${load.requests} requests), the commands scenario did not run`,
      );
    }
    const wholeRun = ctx.rss.now()?.hwmMb ?? 0;
    const after = (ctx.shared.get(PEAK_AFTER_SCENARIO_KEY) as PeakAfterScenario | undefined) ?? [];
    notes.push(
      `figure = VmHWM (the kernel's peak RSS over the service's life) when every scenario that loads the service has run`,
      `during the commands load: VmHWM ${round(commands.hwmMb, 1)} MiB, sampled VmRSS peak ${round(commands.windowPeakMb, 1)} MiB over ${commands.samples} samples at 100 ms`,
    );
    if (after.length > 0)
      notes.push(
        `VmHWM after each scenario: ${after.map((each) => `${each.scenario} ${round(each.hwmMb, 1)}`).join(', ')} MiB`,
      );
    return {
      figure: round(wholeRun, 1),
      unit: 'MiB',
      metrics: {
        hwmMb: round(wholeRun, 1),
        commandsHwmMb: round(commands.hwmMb, 1),
        commandsWindowPeakMb: round(commands.windowPeakMb, 1),
      },
      verified: { rssSamples: commands.samples },
      verifiedOk: commands.samples > 0 && wholeRun > 0,
      notes,
    };
  },
};

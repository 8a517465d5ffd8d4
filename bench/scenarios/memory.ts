import { round } from '../lib/stats.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';
import { commandTenants, runCommandsLoad } from '../lib/workload.js';
import { COMMANDS_MEMORY_KEY, type CommandsMemory } from './commands.js';

export const memoryScenario: Scenario = {
  id: 'memory',
  description: "the service's peak RSS (VmHWM, and sampled VmRSS) during the commands load",
  target: { text: '<= 300 MB', checks: [{ metric: 'figure', op: '<=', value: 300 }] },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    if (!ctx.rss.supported) return { notRun: `/proc/${ctx.rss.pid}/status is not readable (not Linux?)` };
    let memory = ctx.shared.get(COMMANDS_MEMORY_KEY) as CommandsMemory | undefined;
    const notes: string[] = [];
    if (!memory) {
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
      memory = { windowPeakMb: window.peakMb, hwmMb: ctx.rss.now()?.hwmMb ?? 0, samples: window.samples };
      notes.push(
        `own commands load of ${durationMs / 1000} s (${load.requests} requests), the commands scenario did not run`,
      );
    } else {
      notes.push('measured during the commands scenario of this run');
    }
    notes.push(
      `figure = VmHWM (kernel-kept peak RSS over the process life up to the end of the load); sampled VmRSS peak in the load window ${round(memory.windowPeakMb, 1)} MiB over ${memory.samples} samples at 100 ms`,
    );
    return {
      figure: round(memory.hwmMb, 1),
      unit: 'MiB',
      metrics: { hwmMb: round(memory.hwmMb, 1), windowPeakMb: round(memory.windowPeakMb, 1) },
      verified: { rssSamples: memory.samples },
      verifiedOk: memory.samples > 0 && memory.hwmMb > 0,
      notes,
    };
  },
};

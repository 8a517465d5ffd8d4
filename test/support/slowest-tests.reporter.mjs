// Lists the slowest single tests at the end of a run. Jest prints each suite's time only, and a
// suite that is slow in one run in five says nothing about which of its tests was; this says it in
// every run's log, CI's included, at no cost to a run that is quick.
import path from 'node:path';

export default class SlowestTestsReporter {
  /** @param {{ rootDir: string }} globalConfig @param {{ count?: number, overMs?: number }} options */
  constructor(globalConfig, options = {}) {
    this.rootDir = globalConfig.rootDir;
    this.count = options.count ?? 10;
    this.overMs = options.overMs ?? 3000;
    /** @type {{ durationMs: number, file: string, name: string }[]} */
    this.slow = [];
  }

  onTestResult(_test, result) {
    for (const test of result.testResults) {
      if ((test.duration ?? 0) >= this.overMs) {
        const file = path.relative(this.rootDir, result.testFilePath);
        this.slow.push({ durationMs: test.duration, file, name: test.fullName });
      }
    }
  }

  onRunComplete() {
    if (this.slow.length === 0) return;
    const slowest = [...this.slow].sort((a, b) => b.durationMs - a.durationMs).slice(0, this.count);
    const lines = slowest.map(
      ({ durationMs, file, name }) => `  ${(durationMs / 1000).toFixed(1).padStart(6)} s  ${file}  ${name}`,
    );
    process.stderr.write(
      `\nSlowest tests (${slowest.length} of ${this.slow.length} over ${this.overMs / 1000} s):\n` +
        `${lines.join('\n')}\n`,
    );
  }
}

import { readFileSync } from 'node:fs';

export interface RssReading {
  /** Resident set size now, MiB. */
  readonly rssMb: number;
  /** Peak resident set size over the process's life so far (VmHWM), MiB. */
  readonly hwmMb: number;
}

/** Reads VmRSS / VmHWM of a process from /proc/<pid>/status (Linux only). */
export function readRss(pid: number): RssReading | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string): number | undefined => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) : undefined;
  };
  const rss = kb('VmRSS');
  const hwm = kb('VmHWM');
  if (rss === undefined || hwm === undefined) return undefined;
  return { rssMb: rss / 1024, hwmMb: hwm / 1024 };
}

interface Sample {
  readonly at: number;
  readonly rssMb: number;
}

/** Samples the service's RSS every `intervalMs` for the whole run, so any window can be asked about. */
export class RssSampler {
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly pid: number,
    private readonly intervalMs = 100,
  ) {}

  get supported(): boolean {
    return readRss(this.pid) !== undefined;
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  now(): RssReading | undefined {
    return readRss(this.pid);
  }

  /** Highest sampled VmRSS between two performance.now() times, and the number of samples. */
  peakBetween(from: number, to: number): { peakMb: number; samples: number } {
    let peakMb = 0;
    let count = 0;
    for (const sample of this.samples) {
      if (sample.at < from || sample.at > to) continue;
      count += 1;
      if (sample.rssMb > peakMb) peakMb = sample.rssMb;
    }
    return { peakMb, samples: count };
  }

  private sample(): void {
    const reading = readRss(this.pid);
    if (reading) this.samples.push({ at: performance.now(), rssMb: reading.rssMb });
  }
}

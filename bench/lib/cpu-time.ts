import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type pg from 'pg';
import { round } from './stats.js';

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds used so far, read at one moment (Linux /proc; absent parts were not readable). */
export interface CpuReading {
  readonly at: number;
  /** Every CPU of the machine: time busy, time stolen by the hypervisor, and in all. */
  readonly machine?: { readonly busy: number; readonly steal: number; readonly total: number };
  /** This process, all its threads (garbage collection and libuv's included). */
  readonly process: number;
  /** The PostgreSQL server: the postmaster, its live children and the children it has reaped. */
  readonly server?: number;
  /** Other processes asked about, by name: their own CPU and their reaped children's. */
  readonly others: Readonly<Record<string, number>>;
}

/** What was used between two readings, as CPU seconds and as cores kept busy on average. */
export interface CpuUse {
  readonly seconds: number;
  readonly processSeconds: number;
  readonly serverSeconds?: number;
  readonly othersSeconds: Readonly<Record<string, number>>;
  /** Cores busy on average, everything on the machine counted; of `cores`. */
  readonly machineCoresBusy?: number;
  /** Share of the machine's CPU time the hypervisor gave to others. */
  readonly stealShare?: number;
  readonly cores: number;
}

/**
 * Reads where CPU time goes during a window: the machine, this process, and the PostgreSQL server
 * when it runs on this machine (found from the postmaster of one of its backends). For telling a
 * scenario that waits from one the cores cannot serve faster.
 */
export class CpuClock {
  private constructor(
    private readonly postmasterPid: number | undefined,
    private readonly others: Readonly<Record<string, number>>,
  ) {}

  /**
   * Finds the server's postmaster through a connection's backend; without one on this machine, the
   * server is not counted. `others` names more processes to count (the service, say), by pid.
   */
  static async forServerOf(
    client: pg.ClientBase | pg.Pool,
    others: Readonly<Record<string, number>> = {},
  ): Promise<CpuClock> {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const backend = rows[0]?.pid;
    const stat = backend === undefined ? undefined : readStat(backend);
    const isPostgres = stat?.name.startsWith('postgres') ?? false;
    return new CpuClock(isPostgres ? stat?.parent : undefined, others);
  }

  read(): CpuReading {
    const usage = process.cpuUsage();
    const machine = readMachine();
    const server = this.postmasterPid === undefined ? undefined : serverSeconds(this.postmasterPid);
    const others: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.others)) {
      const stat = readStat(pid);
      if (stat) others[name] = stat.own + stat.reaped;
    }
    return {
      at: performance.now(),
      process: (usage.user + usage.system) / 1e6,
      others,
      ...(machine ? { machine } : {}),
      ...(server === undefined ? {} : { server }),
    };
  }
}

export function cpuUsedBetween(from: CpuReading, to: CpuReading): CpuUse {
  const seconds = (to.at - from.at) / 1000;
  const cores = os.cpus().length;
  const machine =
    from.machine && to.machine
      ? {
          busy: to.machine.busy - from.machine.busy,
          steal: to.machine.steal - from.machine.steal,
          total: to.machine.total - from.machine.total,
        }
      : undefined;
  return {
    seconds,
    processSeconds: to.process - from.process,
    othersSeconds: Object.fromEntries(
      Object.entries(to.others).flatMap(([name, seconds]) => {
        const before = from.others[name];
        return before === undefined ? [] : [[name, seconds - before]];
      }),
    ),
    ...(from.server !== undefined && to.server !== undefined
      ? { serverSeconds: to.server - from.server }
      : {}),
    ...(machine && machine.total > 0
      ? {
          machineCoresBusy: (cores * machine.busy) / machine.total,
          stealShare: machine.steal / machine.total,
        }
      : {}),
    cores,
  };
}

/** A window's CPU use in words, e.g. for a scenario's notes. */
export function describeCpuUse(use: CpuUse): string {
  const parts = [`this process ${use.processSeconds.toFixed(1)} s of CPU`];
  if (use.serverSeconds !== undefined) parts.push(`PostgreSQL ${use.serverSeconds.toFixed(1)} s`);
  for (const [name, seconds] of Object.entries(use.othersSeconds))
    parts.push(`${name} ${seconds.toFixed(1)} s`);
  const busy =
    use.machineCoresBusy === undefined
      ? ''
      : `; the machine's ${use.cores} cores ${use.machineCoresBusy.toFixed(2)} busy on average (steal ${(100 * (use.stealShare ?? 0)).toFixed(1)}%)`;
  return `${use.seconds.toFixed(1)} s: ${parts.join(', ')}${busy}`;
}

/** CPU per operation of a window, in milliseconds, by whom (for a scenario's metrics and notes). */
export interface CpuPerOperation {
  readonly serviceMs?: number;
  readonly postgresMs?: number;
  readonly benchMs: number;
  /** The same, rounded, named `serviceCpuMsPer<Noun>` and so on. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly note: string;
}

/**
 * A window's CPU divided by the operations done in it: the service's (counted as `service` among
 * the clock's others), PostgreSQL's and this process's (the load and whatever watches it).
 */
export function cpuPerOperation(use: CpuUse, operations: number, noun: string): CpuPerOperation {
  const per = (seconds: number | undefined) =>
    seconds === undefined || operations === 0 ? undefined : (1000 * seconds) / operations;
  const serviceMs = per(use.othersSeconds.service);
  const postgresMs = per(use.serverSeconds);
  const benchMs = per(use.processSeconds) ?? 0;
  const parts = [
    ...(serviceMs === undefined ? [] : [`the service ${serviceMs.toFixed(2)} ms`]),
    ...(postgresMs === undefined ? [] : [`PostgreSQL ${postgresMs.toFixed(2)} ms`]),
    `the benchmark's process ${benchMs.toFixed(2)} ms`,
  ];
  const busy =
    use.machineCoresBusy === undefined
      ? ''
      : `; the machine's ${use.cores} cores ${use.machineCoresBusy.toFixed(2)} busy on average`;
  const capitalised = noun.charAt(0).toUpperCase() + noun.slice(1);
  const metrics: Record<string, number> = { [`benchCpuMsPer${capitalised}`]: round(benchMs) };
  // Three decimals: a change worth making moves these by a few hundredths of a millisecond.
  if (serviceMs !== undefined) metrics[`serviceCpuMsPer${capitalised}`] = round(serviceMs, 3);
  if (postgresMs !== undefined) metrics[`postgresCpuMsPer${capitalised}`] = round(postgresMs, 3);
  return {
    ...(serviceMs === undefined ? {} : { serviceMs }),
    ...(postgresMs === undefined ? {} : { postgresMs }),
    benchMs,
    metrics,
    note: `CPU per ${noun} over ${use.seconds.toFixed(1)} s (from /proc): ${parts.join(', ')}${busy}`,
  };
}

interface ProcessStat {
  readonly name: string;
  readonly parent: number;
  /** utime + stime, and cutime + cstime (children waited for), in seconds. */
  readonly own: number;
  readonly reaped: number;
}

function readStat(pid: number | string): ProcessStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The name is in parentheses and may hold spaces; the fields after it are numbered from state (3).
  const close = text.lastIndexOf(')');
  const name = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  const field = (number: number) => Number(fields[number - 3]);
  return {
    name,
    parent: field(4),
    own: (field(14) + field(15)) / TICKS_PER_SECOND,
    reaped: (field(16) + field(17)) / TICKS_PER_SECOND,
  };
}

function serverSeconds(postmasterPid: number): number | undefined {
  const postmaster = readStat(postmasterPid);
  if (!postmaster) return undefined;
  let seconds = postmaster.own + postmaster.reaped;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = readStat(entry);
    if (child?.parent === postmasterPid) seconds += child.own;
  }
  return seconds;
}

function readMachine(): CpuReading['machine'] {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  const line = text.split('\n', 1)[0] ?? '';
  if (!line.startsWith('cpu ')) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is counted in user already)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number) as [number, number, number, number, number, number, number, number];
  const busy = user + nice + system + irq + softirq;
  return {
    busy: busy / TICKS_PER_SECOND,
    steal: steal / TICKS_PER_SECOND,
    total: (busy + idle + iowait + steal) / TICKS_PER_SECOND,
  };
}

import cliProgress from 'cli-progress';
import type { Writable } from 'node:stream';

/**
 * Progress of a long run on stderr (stdout stays for data): a bar with events per second and the
 * time left when the total is known, a plain counter when it is not.
 */
export function progressBar(
  stderr: Writable & { isTTY?: boolean },
  label: string,
  total: number | undefined,
) {
  const bar = new cliProgress.SingleBar(
    {
      stream: stderr,
      format: total
        ? `${label} [{bar}] {percentage}% {value}/{total} events | {rate} events/s | eta {eta_formatted}`
        : `${label} {value} events | {rate} events/s`,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      etaBuffer: 50,
      hideCursor: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(total ?? 0, 0, { rate: 0 });
  return {
    update(done: number): void {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      bar.update(done, { rate: Math.round(done / seconds) });
    },
    stop(): void {
      bar.stop();
    },
  };
}

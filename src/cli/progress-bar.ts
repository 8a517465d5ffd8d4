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

/**
 * Progress of a rebuild on stderr: a bar per projection, replaced when the rebuild moves on to the
 * next one. Returns the callback for the rebuild and a function that closes the last bar.
 */
export function rebuildProgress(
  stderr: Writable & { isTTY?: boolean },
  total: number | undefined,
  label: (projection: string) => string = (projection) => projection,
): { onProgress: (progress: { projection: string; events: number }) => void; done: () => void } {
  let bar: ReturnType<typeof progressBar> | undefined;
  let current = '';
  return {
    onProgress: (progress) => {
      if (progress.projection !== current) {
        bar?.stop();
        current = progress.projection;
        bar = progressBar(stderr, label(progress.projection), total);
      }
      bar?.update(progress.events);
    },
    done: () => {
      bar?.stop();
    },
  };
}

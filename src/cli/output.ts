import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Writes and waits for 'drain' when the stream's buffer is full, so that exporting millions of
 * events to a slow pipe keeps memory flat instead of queueing everything inside the process.
 */
export async function writeRespectingBackPressure(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

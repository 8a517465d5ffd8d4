import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { EventStore } from '../event-store/event-store.port.js';
import { tenantStreamName } from '../tenancy/tenant-stream.js';

/**
 * Writes and waits for 'drain' when the stream's buffer is full, so that exporting millions of
 * events to a slow pipe keeps memory flat instead of queueing everything inside the process.
 */
export async function writeRespectingBackPressure(out: Writable, text: string): Promise<void> {
  // A stream that failed (a full disk) says so here rather than never draining.
  if (out.errored) throw out.errored;
  if (!out.write(text)) await once(out, 'drain');
}

/**
 * Whether the tenant has a stream in the store; when not, says so on standard error, in the one
 * wording of every command that needs a tenant, for the command to exit 1.
 */
export async function isKnownTenant(store: EventStore, tenantId: string, stderr: Writable): Promise<boolean> {
  if ((await store.streamRevision(tenantStreamName(tenantId))) !== undefined) return true;
  await writeRespectingBackPressure(stderr, `No tenant ${tenantId} in the event store.\n`);
  return false;
}

/** A count and its noun, in the plural unless the count is one: "1 key", "2 keys". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { decodeRecorded } from '../../stored-events/tenancy-event.codec.js';
import type { EventStore, JsonObject, Position, RecordedEvent } from '../../event-store/event-store.port.js';
import { TENANT_NAME_STREAM_PREFIX } from '../../tenancy/tenant-name-reservation.js';
import { TENANT_STREAM_PREFIX, tenantIdOfStream, tenantStreamName } from '../../tenancy/tenant-stream.js';
import { isCanonicalUuid } from '../../tenancy/uuid.js';
import { UsageError, type CliCommand } from '../cli-command.js';
import { writeRespectingBackPressure } from '../output.js';

/** One line of an export file; `import` reads the same shape back. */
export interface ExportedEvent {
  readonly position: Position;
  readonly streamName: string;
  readonly revision: number;
  readonly id: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
  readonly recordedAt: string;
}

export type ExportScope = { readonly tenantId: string } | 'all';

export interface ExportOptions {
  /** Write events as stored, without upcasting older schema versions. */
  readonly raw?: boolean;
}

const PAGE_SIZE = 1_000;

/**
 * Every stream this service writes: the tenants and the name reservations that keep tenant names
 * unique (an import without them would let a second tenant take an existing name).
 */
const SERVICE_STREAM_PREFIXES = [TENANT_STREAM_PREFIX, TENANT_NAME_STREAM_PREFIX];

/**
 * Writes the events as NDJSON in log order, one page at a time and waiting on the output's
 * back-pressure, so memory stays flat however long the log is. Tenant events are upcast to the
 * current schema version (the same read path as the feed) unless `raw` is asked for.
 */
export async function exportEvents(
  store: EventStore,
  scope: ExportScope,
  out: Writable,
  options: ExportOptions = {},
): Promise<{ readonly events: number }> {
  let events = 0;
  const write = async (recorded: RecordedEvent) => {
    await writeRespectingBackPressure(out, `${JSON.stringify(toExportedEvent(recorded, options))}\n`);
    events++;
  };
  if (scope === 'all') {
    let after: Position | undefined;
    for (;;) {
      const page = await store.readAll({
        after,
        maxCount: PAGE_SIZE,
        filter: { streamPrefixes: SERVICE_STREAM_PREFIXES },
      });
      for (const recorded of page.events) await write(recorded);
      after = page.nextPosition ?? after;
      if (page.isEnd) break;
    }
  } else {
    for await (const recorded of store.readStream(tenantStreamName(scope.tenantId))) await write(recorded);
  }
  return { events };
}

function toExportedEvent(recorded: RecordedEvent, options: ExportOptions): ExportedEvent {
  const upcast = !options.raw && tenantIdOfStream(recorded.streamName) !== undefined;
  const decoded = upcast ? decodeRecorded(recorded) : undefined;
  return {
    position: recorded.position,
    streamName: recorded.streamName,
    revision: recorded.revision,
    id: recorded.id,
    type: recorded.type,
    data: decoded?.event.data ?? recorded.data,
    metadata: decoded?.metadata ?? recorded.metadata,
    recordedAt: recorded.recordedAt.toISOString(),
  };
}

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'write events as NDJSON in log order (one tenant, or the whole log)',
  help: `Usage: tenancy export (--tenant <tenantId> | --all) [--out <file>] [--raw]

Writes one JSON object per line, in log order:
  {"position", "streamName", "revision", "id", "type", "data", "metadata", "recordedAt"}
Streams with constant memory; safe to pipe into gzip or a slow consumer.

Options:
  --tenant <id>   only this tenant's stream
  --all           every stream of this service: tenants and tenant-name reservations
  --out <file>    write to this file instead of standard output (it is replaced)
  --raw           events exactly as stored; by default older schema versions are upcast to the
                  current one, as the feed serves them
  -h, --help      show this help
`,
  options: {
    tenant: { type: 'string' },
    all: { type: 'boolean' },
    out: { type: 'string' },
    raw: { type: 'boolean' },
  },
  async run(options, _positionals, context) {
    const tenantId = typeof options.tenant === 'string' ? options.tenant.toLowerCase() : undefined;
    if ((tenantId === undefined) === (options.all !== true)) {
      throw new UsageError('give exactly one of --tenant <id> and --all');
    }
    if (tenantId !== undefined && !isCanonicalUuid(tenantId)) throw new UsageError('--tenant must be a UUID');
    const store = await context.eventStore();
    const file = typeof options.out === 'string' ? createWriteStream(options.out) : undefined;
    const out = file ?? context.stdout;
    const { events } = await exportEvents(store, tenantId === undefined ? 'all' : { tenantId }, out, {
      raw: options.raw === true,
    });
    if (file) {
      file.end();
      await finished(file);
    }
    await writeRespectingBackPressure(context.stderr, `exported ${events} events\n`);
    return 0;
  },
};

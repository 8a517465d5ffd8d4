import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { decodeRecorded } from '../../stored-events/tenancy-event.codec.js';
import type { EventStore, JsonObject, Position, RecordedEvent } from '../../event-store/event-store.port.js';
import {
  PersonalDataVault,
  type ExportedErasure,
  type ExportedKey,
} from '../../personal-data/personal-data.vault.js';
import { redactStoredEvents } from '../../personal-data/published-events.js';
import {
  newKeyWrapper,
  type KeyWrapper,
  type KeyWrappingHeader,
} from '../../personal-data/personal-data.key-wrapping.js';
import { readPassphraseOption } from '../passphrase-option.js';
import { TENANT_NAME_STREAM_PREFIX } from '../../tenancy/tenant-name-reservation.js';
import { TENANT_STREAM_PREFIX, tenantIdOfStream, tenantStreamName } from '../../tenancy/tenant-stream.js';
import { isCanonicalUuid } from '../../tenancy/uuid.js';
import { UsageError, type CliCommand } from '../cli-command.js';
import { isKnownTenant, plural, writeRespectingBackPressure } from '../output.js';
import { openOutputFile } from '../output-file.js';
import { progressBar } from '../progress-bar.js';

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

/**
 * The personal-data lines: first (before the events, only with a passphrase) how the keys are
 * wrapped; after the events who was erased and, wrapped, the keys that open the sealed display names.
 */
export type ExportedPersonalDataLine =
  | { readonly personalDataKeyWrapping: KeyWrappingHeader }
  | { readonly personalDataKey: ExportedKey }
  | { readonly personalDataErasure: ExportedErasure };

/**
 * The last line of every export: how many lines of each kind come before it, and their digest. A
 * file whose last line is not this one, or whose lines do not add up to it or hash to it, was cut
 * short or changed after the export.
 */
export interface ExportEnd {
  /** Event lines. */
  readonly events: number;
  /** `personalDataErasure` lines. */
  readonly personalDataErasures: number;
  /** `personalDataKey` lines. */
  readonly personalDataKeys: number;
  /**
   * SHA-256, in hexadecimal, of every line before this one as written, each with its line feed.
   * It tells a changed line from an intact one; it proves nothing about who wrote the file (anyone
   * may compute it). Absent from files written before exports had it.
   */
  readonly sha256?: string;
}

/** The digest an end line carries (see ExportEnd.sha256): fed each line before it, as written. */
export function exportDigest(): { add(line: string): void; hex(): string } {
  const hash = createHash('sha256');
  return {
    add: (line) => {
      hash.update(line);
      hash.update('\n');
    },
    hex: () => hash.digest('hex'),
  };
}

export type ExportScope = { readonly tenantId: string } | 'all';

export interface ExportOptions {
  /** Write events as stored, without upcasting older schema versions. */
  readonly raw?: boolean;
  /**
   * Wraps the personal-data keys for the file (personal-data.key-wrapping.ts); without it no key is
   * written, and after an import every sealed display name of the file reads as erased.
   */
  readonly keyWrapper?: KeyWrapper;
  /** Called with the number of events written so far, after each page. */
  readonly onProgress?: (events: number) => void;
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
 * current schema version (the same read path as the feed) unless `raw` is asked for. The last line
 * is the `exportEnd` line, which counts the lines before it.
 */
export async function exportEvents(
  store: EventStore,
  scope: ExportScope,
  out: Writable,
  personalData: PersonalDataVault,
  options: ExportOptions = {},
): Promise<{ readonly events: number; readonly keys: number; readonly keysLeftOut: number }> {
  let events = 0;
  const digest = exportDigest();
  const writeLine = (value: object): Promise<void> => {
    const line = JSON.stringify(value);
    digest.add(line);
    return writeRespectingBackPressure(out, `${line}\n`);
  };
  if (options.keyWrapper !== undefined) {
    await writeLine({ personalDataKeyWrapping: options.keyWrapper.header });
  }
  const write = async (records: readonly RecordedEvent[]) => {
    // Display names stay sealed (an import restores them with the keys below); a plain-text one
    // from before sealing is withheld once its person is erased.
    for (const { recorded, data } of await redactStoredEvents(records, personalData)) {
      await writeLine(toExportedEvent({ ...recorded, data }, options));
      events++;
    }
    options.onProgress?.(events);
  };
  if (scope === 'all') {
    let after: Position | undefined;
    for (;;) {
      const page = await store.readAll({
        after,
        maxCount: PAGE_SIZE,
        filter: { streamPrefixes: SERVICE_STREAM_PREFIXES },
      });
      await write(page.events);
      after = page.nextPosition ?? after;
      if (page.isEnd) break;
    }
  } else {
    let page: RecordedEvent[] = [];
    for await (const recorded of store.readStream(tenantStreamName(scope.tenantId))) {
      page.push(recorded);
      if (page.length >= PAGE_SIZE) {
        await write(page);
        page = [];
      }
    }
    await write(page);
  }
  // Read after the events, so that a person erased while the export ran has no key in the file.
  const { keys, keysLeftOut, erasures } = await personalData.exportable(
    scope === 'all' ? { all: true } : scope,
    options.keyWrapper,
  );
  for (const personalDataErasure of erasures) await writeLine({ personalDataErasure });
  for (const personalDataKey of keys) await writeLine({ personalDataKey });
  const exportEnd: ExportEnd = {
    events,
    personalDataErasures: erasures.length,
    personalDataKeys: keys.length,
    sha256: digest.hex(),
  };
  await writeRespectingBackPressure(out, `${JSON.stringify({ exportEnd })}\n`);
  return { events, keys: keys.length, keysLeftOut };
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
                      [--keys-passphrase-file <file>]

Writes one JSON object per line, in log order:
  {"position", "streamName", "revision", "id", "type", "data", "metadata", "recordedAt"}
then who had their personal data erased:
  {"personalDataErasure": {"tenantId", "userId", "erasedAt"}}
Display names stay sealed in the events. The keys that open them leave the database only
wrapped under a passphrase (--keys-passphrase-file): a first line says how, and one line per
key follows the erasures:
  {"personalDataKeyWrapping": {"kdf", "salt", "cost", "blockSize", "parallelization", "check"}}
  {"personalDataKey": {"tenantId", "userId", "keyId", "wrappedKey"}}
The last line says the file is complete, how many lines of each kind it holds, and the SHA-256
of the lines before it (each with its line feed):
  {"exportEnd": {"events", "personalDataErasures", "personalDataKeys", "sha256"}}
\`tenancy import\` refuses a file that does not end with it (one cut short), does not add up to it,
or whose lines do not hash to it (one changed after the export).
Without a passphrase no key is written: after an import every display name of the file reads as
erased. An erased person's key no longer exists, so no export can carry it.
Streams with constant memory; safe to pipe into gzip or a slow consumer. Progress goes to
standard error: a bar for one tenant, a count of the events written for the whole log.

Options:
  --tenant <id>   only this tenant's stream
  --all           every stream of this service: tenants and tenant-name reservations
  --out <file>    write to this file instead of standard output; it is replaced once the export
                  is complete, and a failed export leaves no file (an earlier one as it was)
  --raw           events exactly as stored (but a plain-text display name of an erased person,
                  written before names were sealed, which is left out); by default older schema
                  versions are upcast to the current one
  --keys-passphrase-file <file>
                  wrap the personal-data keys under the passphrase in this file (its first
                  line, at least 16 characters); \`tenancy import\` needs the same file
  -h, --help      show this help
`,
  options: {
    tenant: { type: 'string' },
    all: { type: 'boolean' },
    out: { type: 'string' },
    raw: { type: 'boolean' },
    'keys-passphrase-file': { type: 'string' },
  },
  async run(options, _positionals, context) {
    const tenantId = typeof options.tenant === 'string' ? options.tenant.toLowerCase() : undefined;
    if ((tenantId === undefined) === (options.all !== true)) {
      throw new UsageError('give exactly one of --tenant <id> and --all');
    }
    if (tenantId !== undefined && !isCanonicalUuid(tenantId)) throw new UsageError('--tenant must be a UUID');
    const passphrase = await readPassphraseOption(options['keys-passphrase-file']);
    const keyWrapper = passphrase === undefined ? undefined : newKeyWrapper(passphrase);
    // Opened before the store: a place it cannot write to fails at once, before any database starts.
    const file = typeof options.out === 'string' ? await openOutputFile(options.out) : undefined;
    let events: number, keys: number, keysLeftOut: number;
    try {
      const store = await context.eventStore();
      if (tenantId !== undefined && !(await isKnownTenant(store, tenantId, context.stderr))) return 1;
      const vault = new PersonalDataVault(await context.database());
      // A tenant's stream says how long it is; the whole log does not, without a count of its own.
      const total =
        tenantId === undefined
          ? undefined
          : ((await store.streamRevision(tenantStreamName(tenantId))) ?? -1) + 1;
      const progress = progressBar(context.stderr, 'exporting', total);
      try {
        ({ events, keys, keysLeftOut } = await exportEvents(
          store,
          tenantId === undefined ? 'all' : { tenantId },
          file?.stream ?? context.stdout,
          vault,
          {
            raw: options.raw === true,
            ...(keyWrapper === undefined ? {} : { keyWrapper }),
            onProgress: (done) => progress.update(done),
          },
        ));
      } finally {
        // Stopped however the run ends: a bar left running would keep the process alive for ever.
        progress.stop();
      }
      await file?.complete();
    } catch (error) {
      // A full disk part way: say which file could not be written.
      throw file === undefined ? error : file.failure(error);
    } finally {
      await file?.discard();
    }
    await writeRespectingBackPressure(
      context.stderr,
      keysLeftOut > 0
        ? `exported ${plural(events, 'event')}; ${plural(keysLeftOut, 'personal-data key')} left out (no --keys-passphrase-file): ` +
            'their display names read as erased after an import\n'
        : `exported ${plural(events, 'event')} and ${plural(keys, 'wrapped personal-data key')}\n`,
    );
    return 0;
  },
};

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import cliProgress from 'cli-progress';
import {
  ConcurrencyError,
  type EventStore,
  type EventToAppend,
  type Position,
  type RecordedEvent,
} from '../../event-store/event-store.port.js';
import { TENANT_NAME_STREAM_PREFIX } from '../../tenancy/tenant-name-reservation.js';
import { TENANT_STREAM_PREFIX, tenantIdOfStream } from '../../tenancy/tenant-stream.js';
import { decodeRecorded } from '../../stored-events/tenancy-event.codec.js';
import { UsageError, type CliCommand } from '../cli-command.js';
import {
  exportDigest,
  type ExportEnd,
  type ExportedEvent,
  type ExportedPersonalDataLine,
} from './export.command.js';
import { PersonalDataVault, type ExportedErasure } from '../../personal-data/personal-data.vault.js';
import {
  KeyWrappingError,
  openKeyWrapper,
  type KeyWrapper,
  type KeyWrappingHeader,
} from '../../personal-data/personal-data.key-wrapping.js';
import { readPassphraseOption } from '../passphrase-option.js';

export interface ImportProgress {
  readonly events: number;
  readonly bytes: number;
}

export class ImportError extends Error {
  override name = 'ImportError';
}

/** The file does not end as an export ends: cut short, or changed after the export; the CLI names the file. */
export class IncompleteExportError extends ImportError {
  override name = 'IncompleteExportError';
}

export interface ImportOptions {
  /**
   * Accept a file that does not end with an `exportEnd` line, as exports wrote before they had one.
   * Whether such a file is complete cannot be checked. A file that has the line is checked all the same.
   */
  readonly withoutEndLine?: boolean;
}

/** Events per append: one transaction each, and a bound on what is held in memory. */
const BATCH_SIZE = 500;

/**
 * Loads an export into an event store that holds none of this service's streams yet. Event ids,
 * types, data, metadata, stream revisions and the order of the file are kept: consecutive lines of
 * one stream go in one append whose expected revision is exactly the one before the first, so a file
 * with a gap, a repeat or a foreign writer in between fails instead of producing a different history.
 * Positions and recording times are the target store's own.
 *
 * The file is read twice (`open` is called for each reading): first it is checked whole, every line
 * parsed, every stream's revisions counted from zero, every tenant event decoded as the service will
 * read it and every personal-data key unwrapped, writing nothing; only a file that passes is then
 * imported. A file cut short, inside a line or at a line boundary (its last line is not the
 * `exportEnd` line, or its lines do not add up to it), or with a line damaged, changed, repeated or
 * out of place, is refused with the store as it was, so that the import of the intact file can
 * follow.
 */
export async function importEvents(
  store: EventStore,
  open: () => Readable,
  onProgress: (progress: ImportProgress) => void = () => undefined,
  /** Where the file's personal-data keys and erasures go; a file with such lines needs it. */
  personalData?: PersonalDataVault,
  /** Unwraps the file's personal-data keys (`tenancy export --keys-passphrase-file`). */
  keysPassphrase?: string,
  options: ImportOptions = {},
): Promise<ImportProgress & { readonly alreadyImported: number; readonly endLine: boolean }> {
  const { alreadyImported, endLine } = await checkImportFile(
    open(),
    serviceEvents(store),
    personalData !== undefined,
    keysPassphrase,
    options,
  );
  let toSkip = alreadyImported;

  let batch: ExportedEvent[] = [];
  let events = 0;
  let bytes = 0;
  let lineNumber = 0;
  let previousPosition: string | undefined;
  let keyWrapper: KeyWrapper | undefined;
  /** PersonalDataErased events of the batch: recorded as erasures once the batch is in. */
  let erasedInBatch: ExportedErasure[] = [];
  const flush = async () => {
    const first = batch[0];
    if (first === undefined) return;
    try {
      await store.appendToStream(
        first.streamName,
        batch.map((line): EventToAppend => ({
          id: line.id,
          type: line.type,
          data: line.data,
          metadata: line.metadata,
        })),
        first.revision === 0 ? 'no_stream' : first.revision - 1,
      );
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      throw new ImportError(
        `${first.streamName} revision ${first.revision} (line ${lineNumber - batch.length + 1}) does not follow ` +
          `the stream's revision ${String(error.actual)}: the file has a gap or a repeat, or something else is writing`,
      );
    }
    events += batch.length;
    batch = [];
    // The log says who was erased: that holds even for a file written without erasure lines.
    if (erasedInBatch.length > 0) {
      if (personalData === undefined)
        throw new ImportError('erasures of personal data need the service database');
      for (const erasure of erasedInBatch) await personalData.importErasure(erasure);
      erasedInBatch = [];
    }
    onProgress({ events, bytes });
  };

  for await (const text of createInterface({ input: open(), crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNumber++;
    bytes += Buffer.byteLength(text) + 1;
    // The end line, checked before; it is the last.
    if (text.trim() === '' || isEndLine(text)) continue;
    const personal = personalDataLine(text, lineNumber);
    if (personal !== undefined) {
      if (personalData === undefined)
        throw new ImportError(`line ${lineNumber}: personal-data keys need the service's database`);
      await flush();
      if ('personalDataKeyWrapping' in personal) {
        if (events > 0) throw new ImportError(`line ${lineNumber}: the key wrapping line must come first`);
        keyWrapper = keyWrapperOf(personal.personalDataKeyWrapping, keysPassphrase);
      } else if ('personalDataKey' in personal) {
        if (keyWrapper === undefined)
          throw new ImportError(`line ${lineNumber}: a personal-data key without the key wrapping line`);
        try {
          await personalData.importKey(personal.personalDataKey, keyWrapper);
        } catch (error) {
          if (error instanceof KeyWrappingError)
            throw new ImportError(`line ${lineNumber}: ${error.message}`);
          throw error;
        }
      } else await personalData.importErasure(personal.personalDataErasure);
      continue;
    }
    const line = parseLineAfter(text, lineNumber, previousPosition);
    previousPosition = line.position;
    if (toSkip > 0) {
      // In the store already, from an import of this file that was stopped; its erasure may not be.
      toSkip--;
      if (line.type === 'PersonalDataErased') await personalData?.importErasure(erasureOf(line));
      continue;
    }
    const last = batch[batch.length - 1];
    if (last !== undefined && (last.streamName !== line.streamName || batch.length >= BATCH_SIZE))
      await flush();
    const previous = batch[batch.length - 1];
    if (previous !== undefined && line.revision !== previous.revision + 1) {
      throw new ImportError(
        `line ${lineNumber}: ${line.streamName} jumps from revision ${previous.revision} to ${line.revision}`,
      );
    }
    batch.push(line);
    if (line.type === 'PersonalDataErased') erasedInBatch.push(erasureOf(line));
  }
  await flush();
  return { events, bytes, alreadyImported, endLine };
}

/** The events of this service's streams in the store, in log order. */
async function* serviceEvents(store: EventStore): AsyncGenerator<RecordedEvent> {
  let after: Position | undefined;
  for (;;) {
    const page = await store.readAll({
      after,
      maxCount: BATCH_SIZE,
      filter: { streamPrefixes: [TENANT_STREAM_PREFIX, TENANT_NAME_STREAM_PREFIX] },
    });
    yield* page.events;
    after = page.nextPosition ?? after;
    if (page.isEnd) return;
  }
}

/**
 * Reads the whole file as the import will, and throws ImportError at the first line the import
 * would refuse or the service could not read, before anything is written, and when the file does not
 * end with an `exportEnd` line that counts its lines and, when it has their digest, hashes to it
 * (unless `withoutEndLine` and it has none). The store may hold the file's first events, as an
 * import of it that was stopped leaves it, and nothing else: returns how many of the file's events
 * it holds, and whether the file has an end line.
 */
async function checkImportFile(
  input: Readable,
  stored: AsyncGenerator<RecordedEvent>,
  withDatabase: boolean,
  keysPassphrase: string | undefined,
  options: ImportOptions,
): Promise<{ readonly alreadyImported: number; readonly endLine: boolean }> {
  const notThisFile = () =>
    new ImportError(
      'the event store already holds tenancy events that are not the beginning of this file; import only ' +
        'into an empty store, or again into the one an import of this file was stopped in',
    );
  let next = await stored.next();
  let alreadyImported = 0;
  const nextRevision = new Map<string, number>();
  let lineNumber = 0;
  let events = 0;
  let erasures = 0;
  let keys = 0;
  let end: { readonly lineNumber: number; readonly counts: ExportEnd } | undefined;
  let previousPosition: string | undefined;
  let keyWrapper: KeyWrapper | undefined;
  // Fed each line before the end line as read (a blank one left out, as the export writes none).
  const digest = exportDigest();
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNumber++;
    if (text.trim() === '') continue;
    // Two files one after the other, or lines appended: whatever follows, the file is not one export.
    if (end !== undefined)
      throw new IncompleteExportError(
        `line ${end.lineNumber}: the exportEnd line must be the last line of the file`,
      );
    if (isEndLine(text)) {
      end = { lineNumber, counts: endLineOf(text, lineNumber) };
      continue;
    }
    digest.add(text);
    const personal = personalDataLine(text, lineNumber);
    if (personal !== undefined) {
      if (!withDatabase)
        throw new ImportError(`line ${lineNumber}: personal-data keys need the service's database`);
      if ('personalDataKeyWrapping' in personal) {
        if (events > 0 || keyWrapper !== undefined)
          throw new ImportError(`line ${lineNumber}: the key wrapping line must come first`);
        keyWrapper = keyWrapperOf(personal.personalDataKeyWrapping, keysPassphrase);
      } else if ('personalDataKey' in personal) {
        if (keyWrapper === undefined)
          throw new ImportError(`line ${lineNumber}: a personal-data key without the key wrapping line`);
        const key = personal.personalDataKey;
        if (
          ![key.tenantId, key.userId, key.keyId, key.wrappedKey].every((field) => typeof field === 'string')
        )
          throw new ImportError(
            `line ${lineNumber}: a personal-data key needs tenantId, userId, keyId and wrappedKey`,
          );
        try {
          keyWrapper.unwrap(key, key.wrappedKey);
        } catch (error) {
          if (error instanceof KeyWrappingError)
            throw new ImportError(`line ${lineNumber}: ${error.message}`);
          throw error;
        }
        keys++;
      } else {
        const erasure = personal.personalDataErasure;
        if (
          typeof erasure.tenantId !== 'string' ||
          typeof erasure.userId !== 'string' ||
          typeof erasure.erasedAt !== 'string' ||
          Number.isNaN(Date.parse(erasure.erasedAt))
        )
          throw new ImportError(`line ${lineNumber}: an erasure needs tenantId, userId and an ISO erasedAt`);
        erasures++;
      }
      continue;
    }
    const line = parseLineAfter(text, lineNumber, previousPosition);
    previousPosition = line.position;
    const due = nextRevision.get(line.streamName) ?? 0;
    if (line.revision !== due) {
      throw new ImportError(
        `line ${lineNumber}: ${line.streamName} revision ${line.revision} where ${due} is due: ` +
          'the file has a gap or a repeat',
      );
    }
    nextRevision.set(line.streamName, due + 1);
    if (!next.done) {
      const { id, streamName, revision, type } = next.value;
      if (
        id !== line.id ||
        streamName !== line.streamName ||
        revision !== line.revision ||
        type !== line.type
      )
        throw notThisFile();
      alreadyImported++;
      next = await stored.next();
    }
    if (tenantIdOfStream(line.streamName) !== undefined) {
      try {
        decodeRecorded({ ...line, recordedAt: new Date(line.recordedAt) });
      } catch (error) {
        throw new ImportError(
          `line ${lineNumber}: ${error instanceof Error ? error.message : String(error)}`,
          {
            cause: error,
          },
        );
      }
    }
    events++;
  }
  if (end === undefined) {
    if (options.withoutEndLine !== true)
      throw new IncompleteExportError(
        'the file ends without its exportEnd line: it was cut short (an export that was stopped, a full ' +
          'disk, a partial copy), or written before exports had one (then give --without-end-line)',
      );
  } else {
    const held: ExportEnd = { events, personalDataErasures: erasures, personalDataKeys: keys };
    const differences = (['events', 'personalDataErasures', 'personalDataKeys'] as const)
      .filter((kind) => end.counts[kind] !== held[kind])
      .map((kind) => `${kind}: ${end.counts[kind]} on the end line, ${held[kind]} in the file`);
    if (differences.length > 0)
      throw new IncompleteExportError(
        `the file does not add up to its exportEnd line (${differences.join('; ')}): lines are missing or were added`,
      );
    // An end line written before exports had a digest is checked by its counts alone.
    if (end.counts.sha256 !== undefined && end.counts.sha256 !== digest.hex())
      throw new IncompleteExportError(
        "the file's lines do not hash to its exportEnd line's sha256: a line was changed after the export",
      );
  }
  if (!next.done) throw notThisFile();
  return { alreadyImported, endLine: end !== undefined };
}

function isEndLine(text: string): boolean {
  return text.startsWith('{"exportEnd"');
}

/** The counts of an end line. */
function endLineOf(text: string, lineNumber: number): ExportEnd {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ImportError(`line ${lineNumber}: not JSON`);
  }
  const end = (parsed as { exportEnd?: unknown }).exportEnd;
  const counts = isObject(end) ? (end as Partial<Record<keyof ExportEnd, unknown>>) : {};
  if (
    ![counts.events, counts.personalDataErasures, counts.personalDataKeys].every(
      (count) => Number.isSafeInteger(count) && (count as number) >= 0,
    )
  )
    throw new ImportError(
      `line ${lineNumber}: the exportEnd line needs events, personalDataErasures and personalDataKeys as counts`,
    );
  const sha256 = (counts as { sha256?: unknown }).sha256;
  if (sha256 !== undefined && !(typeof sha256 === 'string' && /^[0-9a-f]{64}$/.test(sha256)))
    throw new ImportError(
      `line ${lineNumber}: the exportEnd line's sha256 must be 64 lowercase hexadecimal digits`,
    );
  return counts as ExportEnd;
}

/** Checks the passphrase before any event is imported. */
function keyWrapperOf(header: KeyWrappingHeader, passphrase: string | undefined): KeyWrapper {
  if (passphrase === undefined)
    throw new ImportError(
      'the file carries personal-data keys wrapped under a passphrase: give the file that holds it ' +
        'with --keys-passphrase-file',
    );
  try {
    return openKeyWrapper(header, passphrase);
  } catch (error) {
    if (error instanceof KeyWrappingError) throw new ImportError(error.message);
    throw error;
  }
}

function erasureOf(line: ExportedEvent): ExportedErasure {
  return {
    tenantId: String(line.data.tenantId),
    userId: String(line.data.userId),
    erasedAt: typeof line.metadata.occurredAt === 'string' ? line.metadata.occurredAt : line.recordedAt,
  };
}

/** A key wrapping, key or erasure line, or undefined for an event line. */
function personalDataLine(text: string, lineNumber: number): ExportedPersonalDataLine | undefined {
  if (!text.startsWith('{"personalData')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ImportError(`line ${lineNumber}: not JSON`);
  }
  const value = parsed as Partial<
    Record<'personalDataKeyWrapping' | 'personalDataKey' | 'personalDataErasure', unknown>
  >;
  if (isObject(value.personalDataKeyWrapping)) return value as ExportedPersonalDataLine;
  if (isObject(value.personalDataKey)) return value as ExportedPersonalDataLine;
  if (isObject(value.personalDataErasure)) return value as ExportedPersonalDataLine;
  return undefined;
}

/** The event of a line, which must come after the one before it in the log. */
function parseLineAfter(
  text: string,
  lineNumber: number,
  previousPosition: string | undefined,
): ExportedEvent {
  const line = parseLine(text, lineNumber);
  if (previousPosition !== undefined && line.position <= previousPosition) {
    throw new ImportError(
      `line ${lineNumber}: position ${line.position} is not after the line before; the file is not in log order`,
    );
  }
  return line;
}

function parseLine(text: string, lineNumber: number): ExportedEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ImportError(`line ${lineNumber}: not JSON`);
  }
  const line = value as Partial<Record<keyof ExportedEvent, unknown>>;
  const problems = [
    typeof line.position === 'string' || 'position must be a string',
    (typeof line.streamName === 'string' && line.streamName.length > 0) || 'streamName must be a string',
    (Number.isSafeInteger(line.revision) && (line.revision as number) >= 0) ||
      'revision must be a non-negative integer',
    typeof line.id === 'string' || 'id must be a string',
    (typeof line.type === 'string' && line.type.length > 0) || 'type must be a string',
    isObject(line.data) || 'data must be an object',
    isObject(line.metadata) || 'metadata must be an object',
  ].filter((check): check is string => check !== true);
  if (problems.length > 0) throw new ImportError(`line ${lineNumber}: ${problems.join(', ')}`);
  return line as ExportedEvent;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const importCommand: CliCommand = {
  name: 'import',
  migrates: true,
  summary: 'load an export file into an empty event store',
  positionals: true,
  help: `Usage: tenancy import <file> [--keys-passphrase-file <file>] [--without-end-line]

Loads a file written by \`tenancy export\` into an event store that holds no tenancy events yet,
and refuses otherwise, but for one case: run again after an import of the same file was stopped
(Ctrl-C, a kill, a lost connection), it finds the file's first events in the store and imports the
rest. Keeps every event's id, type, data and metadata, each stream's revisions and the order of the
file; positions and recording times are the new store's own. The file's personal-data keys
(unwrapped with the passphrase the export was written with) and erasures go to the service's
database, so display names read as they did, and erased ones stay erased: their keys were never in
the file, and every PersonalDataErased event of the file is recorded as an erasure. The whole file
is checked first (every line read, each stream's revisions counted from zero, every event decoded,
every key unwrapped, the lines counted and hashed against the exportEnd line that ends every
export): a wrong or missing passphrase, a file cut short (inside a line, or at a line boundary: its
last line is not the exportEnd line, or its lines do not add up to it), and a file with a line
damaged, changed (its lines do not hash to the end line's sha256), repeated or out of order, are
refused with one line, and nothing is imported. Progress goes to stderr.

Stop the service (and its process managers) while importing: anything else writing to the store
would be refused by the import's exact expected revisions, and the import would stop there.

Options:
  --keys-passphrase-file <file>
                  the passphrase (first line of the file) the export wrapped its keys under
  --without-end-line
                  also import a file that has no exportEnd line, as exports wrote before they had
                  one; whether it is complete cannot be checked, and a warning says so (a file that
                  has the line is checked all the same)
  -h, --help      show this help
`,
  options: { 'keys-passphrase-file': { type: 'string' }, 'without-end-line': { type: 'boolean' } },
  async run(options, positionals, context) {
    const [file, ...extra] = positionals;
    if (file === undefined || extra.length > 0) throw new UsageError('give exactly one file to import');
    const passphrase = await readPassphraseOption(options['keys-passphrase-file']);
    // Checked before the store is opened: a file it cannot read fails at once, with one line.
    const size = await readableSize(file);
    const store = await context.eventStore();
    const bar = new cliProgress.SingleBar(
      {
        stream: context.stderr,
        format: 'import |{bar}| {percentage}% | {events} events | {rate} events/s | ETA {eta_formatted}',
        noTTYOutput: true,
        notTTYSchedule: 5_000,
      },
      cliProgress.Presets.shades_classic,
    );
    const started = Date.now();
    bar.start(Math.max(size, 1), 0, { events: 0, rate: 0 });
    try {
      const vault = new PersonalDataVault(await context.database());
      const result = await importEvents(
        store,
        () => createReadStream(file),
        ({ events, bytes }) => {
          const seconds = Math.max((Date.now() - started) / 1000, 0.001);
          bar.update(Math.min(bytes, size), { events, rate: Math.round(events / seconds) });
        },
        vault,
        passphrase,
        { withoutEndLine: options['without-end-line'] === true },
      );
      bar.update(Math.max(size, 1), { events: result.events });
      bar.stop();
      if (!result.endLine)
        context.stderr.write(
          `tenancy import: warning: ${file} has no exportEnd line: whether it is complete cannot be checked\n`,
        );
      context.stderr.write(
        `imported ${result.events} events from ${file}` +
          (result.alreadyImported > 0
            ? ` (its first ${result.alreadyImported} were in the store already, from an import that was stopped)\n`
            : '\n'),
      );
      return 0;
    } catch (error) {
      bar.stop();
      if (error instanceof IncompleteExportError)
        throw new IncompleteExportError(`${file}: ${error.message}`);
      throw error;
    }
  },
};

/** The size of a file that can be opened and read; otherwise `cannot read <file>: <reason>`. */
async function readableSize(file: string): Promise<number> {
  try {
    const handle = await open(file, 'r');
    try {
      // Opening a directory succeeds; reading it is what fails.
      await handle.read(Buffer.alloc(1), 0, 1, 0);
      return (await handle.stat()).size;
    } finally {
      await handle.close();
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot read ${file}: ${message.replace(/, \w+( '[^']*')?$/, '')}`);
  }
}

import { rmSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** A file a command writes whole or not at all. */
export interface OutputFile {
  readonly stream: Writable;
  /** Flushes the file and puts it in its place; a failure here leaves no file under the name either. */
  complete(): Promise<void>;
  /** Removes what was written, unless complete() succeeded; safe to call more than once. */
  discard(): Promise<void>;
  /**
   * What to report for an error the command's run threw: a write to the file that failed (a full
   * disk) names the file, as a failure to open or complete it does; any other error as it is.
   */
  failure(error: unknown): unknown;
}

/**
 * Opens `file` for a command's output, before the command does anything else, so that a place it
 * cannot write to fails at once with one line. The output goes to a temporary file beside it and is
 * renamed over `file` only once complete: a run that fails leaves no partial file under the name,
 * and an earlier file as it was. What is not a regular file (a pipe, /dev/stdout) is written in place.
 */
export async function openOutputFile(file: string): Promise<OutputFile> {
  const inPlace = await isSpecialFile(file);
  const target = inPlace
    ? file
    : path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.partial`);
  let handle;
  try {
    handle = await open(target, inPlace ? 'w' : 'wx');
  } catch (error) {
    throw cannotWrite(file, error);
  }
  const stream = handle.createWriteStream();
  // Errors surface through the writes (writeRespectingBackPressure) and complete(), never as a crash.
  stream.on('error', () => {});
  let settled = false;
  // A run that ends before either (Ctrl-C, SIGTERM: the CLI exits at once) leaves no partial file either.
  const removeOnExit = () => {
    if (!settled && !inPlace) rmSync(target, { force: true });
  };
  process.on('exit', removeOnExit);
  return {
    stream,
    async complete() {
      try {
        stream.end();
        await finished(stream);
        if (!inPlace) await rename(target, file);
        settled = true;
        process.removeListener('exit', removeOnExit);
      } catch (error) {
        throw cannotWrite(file, error);
      }
    },
    async discard() {
      if (settled) return;
      settled = true;
      stream.destroy();
      await finished(stream).catch(() => undefined);
      if (!inPlace) await rm(target, { force: true });
      process.removeListener('exit', removeOnExit);
    },
    failure(error) {
      return error !== null && error === stream.errored ? cannotWrite(file, error) : error;
    },
  };
}

async function isSpecialFile(file: string): Promise<boolean> {
  try {
    return !(await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * `cannot write <file>: ENOENT: no such file or directory`, naming the file as it was given, without
 * the system call and the temporary file's name.
 */
function cannotWrite(file: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`cannot write ${file}: ${message.replace(/, \w+( '[^']*'( -> '[^']*')?)?$/, '')}`);
}

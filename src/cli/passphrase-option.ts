import { readFile } from 'node:fs/promises';
import { KeyWrappingError, requireLongEnough } from '../personal-data/personal-data.key-wrapping.js';
import { UsageError } from './cli-command.js';

/**
 * The passphrase named by `--keys-passphrase-file`: the file's first line. A file rather than an
 * argument, so that it shows up in no process list and no shell history.
 */
export async function readPassphraseOption(file: string | boolean | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  if (typeof file !== 'string') throw new UsageError('--keys-passphrase-file needs a file');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read --keys-passphrase-file ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const passphrase = text.split(/\r?\n/, 1)[0] ?? '';
  // Checked here too, so that an unusable passphrase is a usage error found before any work starts.
  try {
    requireLongEnough(passphrase);
  } catch (error) {
    if (error instanceof KeyWrappingError)
      throw new UsageError(`--keys-passphrase-file ${file}: ${error.message}`);
    throw error;
  }
  return passphrase;
}

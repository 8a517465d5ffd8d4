import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface GeneratedOperatorKey {
  readonly key: string;
  /** Readable by the service's user only (mode 600). */
  readonly file: string;
}

/**
 * A fresh checkout must be usable at once, without the key landing in collected logs: a key for
 * this run is written to a file in the data directory, and only the file's path is logged.
 */
export async function generateOperatorKey(dataDir: string): Promise<GeneratedOperatorKey> {
  const key = randomBytes(32).toString('base64url');
  const file = path.join(dataDir, 'operator-key');
  try {
    await mkdir(dataDir, { recursive: true });
    // Removed first: an existing file would keep its own (perhaps wider) mode.
    await rm(file, { force: true });
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new Error(
      `the operator key generated for this run cannot be written to ${file} (${error instanceof Error ? error.message : String(error)}): ` +
        'set TENANCY_OPERATOR_KEY, or TENANCY_DATA_DIR to a directory this user can write',
      { cause: error },
    );
  }
  return { key, file };
}

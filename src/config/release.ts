import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CURRENT_SCHEMA_VERSION } from '../tenancy/tenancy.events.js';

/**
 * The folder of the installed package (the one holding package.json), whether this runs from src/
 * (tsx, jest) or from dist/: migrations/ and schemas/ sit in it.
 */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

/**
 * Which release this process is, as an operator needs to tell instances apart while two versions
 * run side by side: the package's version and the event schema version it writes and reads up to.
 */
export const RELEASE = {
  version: (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
    .version,
  schemaVersion: CURRENT_SCHEMA_VERSION,
} as const;

/** One line for a log or a terminal: `tenancy 0.1.0 (event schema version 2)`. */
export function describeRelease(): string {
  return `tenancy ${RELEASE.version} (event schema version ${RELEASE.schemaVersion})`;
}

function findPackageRoot(start: string): string {
  let directory = start;
  while (!existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error(`package.json not found above ${start}`);
    directory = parent;
  }
  return directory;
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../database/migrations.js';
import { CURRENT_SCHEMA_VERSION } from '../tenancy/tenancy.events.js';

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

import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonObject } from '../../event-store/event-store.port.js';
import { isTenancyEventType, type TenancyEventType } from '../../tenancy/tenancy.events.js';

/** One JSON Schema of the published catalog: the shape of one event type at one schema version. */
export interface EventSchemaEntry {
  readonly type: TenancyEventType;
  readonly schemaVersion: number;
  readonly schema: JsonObject;
}

export const EVENT_SCHEMA_CATALOG = Symbol('EventSchemaCatalog');

const FILE_NAME = /^([A-Za-z]+)\.v(\d+)\.schema\.json$/;

/**
 * Reads schemas/events/. The files are the source of truth (consumers may take them straight from the
 * repository), so a file whose name, $id and `type` disagree is refused rather than served.
 */
export async function loadEventSchemaCatalog(
  directory: string = path.join(projectRoot(), 'schemas', 'events'),
): Promise<readonly EventSchemaEntry[]> {
  const entries: EventSchemaEntry[] = [];
  for (const file of (await readdir(directory)).sort()) {
    const match = FILE_NAME.exec(file);
    if (!match) continue;
    const [, type = '', version = ''] = match;
    if (!isTenancyEventType(type)) throw new Error(`${file}: ${type} is not a tenancy event type`);
    const schema = JSON.parse(await readFile(path.join(directory, file), 'utf8')) as JsonObject;
    const declaredType = (schema.properties as { type?: { const?: unknown } } | undefined)?.type?.const;
    if (declaredType !== type || schema.$id !== `urn:tenancy:events:${type}:v${version}`) {
      throw new Error(`${file}: its $id or type const does not match the file name`);
    }
    entries.push({ type, schemaVersion: Number(version), schema });
  }
  return entries.sort((a, b) => a.type.localeCompare(b.type) || a.schemaVersion - b.schemaVersion);
}

// The schemas live beside package.json, whether this runs from src/ (tsx, jest) or from dist/.
function projectRoot(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(directory, 'schemas'))) {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error('no schemas/ directory above the event schema catalog');
    directory = parent;
  }
  return directory;
}

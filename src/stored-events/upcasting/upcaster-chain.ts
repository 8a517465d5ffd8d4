import type { JsonObject } from '../../event-store/event-store.port.js';
import { CURRENT_SCHEMA_VERSION, type TenancyEventType } from '../../tenancy/tenancy.events.js';
import { UpcastError, type UpcastContext, type Upcaster } from './upcaster.js';
import { workspaceEventsV0Upcasters } from './workspace-events.v0.upcaster.js';
import { memberEventsV1Upcasters } from './member-events.v1.upcaster.js';

/**
 * schemaVersion is one number for the whole log (the application writes CURRENT_SCHEMA_VERSION on
 * every event), so an event type whose shape did not change between two versions has no upcaster
 * for that step: its data passes through unchanged.
 */
export class UpcasterChain {
  private readonly steps = new Map<string, Upcaster>();

  constructor(
    upcasters: readonly Upcaster[],
    private readonly currentVersion: number = CURRENT_SCHEMA_VERSION,
  ) {
    for (const upcaster of upcasters) {
      if (upcaster.fromVersion < 0 || upcaster.fromVersion >= currentVersion) {
        throw new Error(
          `upcaster ${upcaster.type} v${upcaster.fromVersion} does not lead to version ${currentVersion}`,
        );
      }
      const key = stepKey(upcaster.type, upcaster.fromVersion);
      if (this.steps.has(key)) throw new Error(`two upcasters for ${upcaster.type} v${upcaster.fromVersion}`);
      this.steps.set(key, upcaster);
    }
  }

  /** The data in the current shape; the very same object when it is already current. */
  upcast(type: TenancyEventType, data: JsonObject, fromVersion: number, context: UpcastContext): JsonObject {
    if (!Number.isSafeInteger(fromVersion) || fromVersion < 0) {
      throw new UpcastError(`${context.streamName}: schemaVersion ${String(fromVersion)} is not a version`);
    }
    if (fromVersion > this.currentVersion) {
      // Written by a newer release: reading it as the current shape could silently lose fields.
      throw new UpcastError(
        `${context.streamName}: ${type} has schemaVersion ${fromVersion}, newer than ${this.currentVersion}; upgrade this reader`,
      );
    }
    let current = data;
    for (let version = fromVersion; version < this.currentVersion; version++) {
      const step = this.steps.get(stepKey(type, version));
      if (step !== undefined) current = step.upcast(current, context);
    }
    return current;
  }
}

function stepKey(type: string, fromVersion: number): string {
  return `${type}@${fromVersion}`;
}

/** Every upcaster of the tenancy events, oldest version first. */
export const tenancyUpcasters = new UpcasterChain([
  ...workspaceEventsV0Upcasters,
  ...memberEventsV1Upcasters,
]);

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import * as addFormatsModule from 'ajv-formats';
import type { FormatsPlugin } from 'ajv-formats';
import { loadEventSchemaCatalog } from '../../src/http/events/event-schema.catalog.js';

// ajv-formats is CommonJS with `exports.default`; depending on the ESM interop the plugin sits one
// or two `default`s deep.
const addFormats = unwrapDefault(addFormatsModule) as FormatsPlugin;

function unwrapDefault(module: object): unknown {
  let value: unknown = module;
  while (typeof value === 'object' && value !== null && 'default' in value) value = value.default;
  return value;
}

export interface EventToValidate {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Record<string, unknown>;
}

/** Checks events against the published catalog (schemas/events), by type and stored schemaVersion. */
export interface EventSchemaValidator {
  /** The problems of one event; empty when it matches its schema. */
  problemsOf(event: EventToValidate): string[];
  /** Throws, listing every failing event, unless all of them validate. */
  assertAllValid(events: readonly EventToValidate[]): void;
}

export async function loadEventSchemaValidator(): Promise<EventSchemaValidator> {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  for (const entry of await loadEventSchemaCatalog()) {
    validators.set(`${entry.type}@${entry.schemaVersion}`, ajv.compile(entry.schema));
  }
  const problemsOf = (event: EventToValidate): string[] => {
    const version = JSON.stringify(event.metadata.schemaVersion ?? 0);
    const validate = validators.get(`${event.type}@${version}`);
    if (!validate) return [`no schema for ${event.type} version ${version}`];
    if (validate({ type: event.type, data: event.data, metadata: event.metadata })) return [];
    return (validate.errors ?? []).map(
      (error) => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`,
    );
  };
  return {
    problemsOf,
    assertAllValid(events) {
      const failures = events.flatMap((event, index) => {
        const problems = problemsOf(event);
        return problems.length === 0 ? [] : [`#${index} ${event.type}: ${problems.join('; ')}`];
      });
      if (failures.length > 0) {
        throw new Error(
          `${failures.length} of ${events.length} events do not match the catalog:\n${failures.slice(0, 20).join('\n')}`,
        );
      }
    },
  };
}

import type { JsonObject } from '../../event-store/event-store.port.js';
import type { Upcaster } from './upcaster.js';

/**
 * Schema version 1 stored a member's display name as plain text. Version 2 holds personal data as
 * `{ sealed }` (encrypted with the person's own key) and, for what was written before, `{ text }`:
 * the same name, marked as unsealed, so that every read path can hide it once the person is erased.
 */
export const memberEventsV1Upcasters: readonly Upcaster[] = [
  { type: 'MemberAdded', fromVersion: 1, upcast: displayNameAsUnsealedText },
  { type: 'MemberUpdated', fromVersion: 1, upcast: displayNameAsUnsealedText },
];

function displayNameAsUnsealedText(data: JsonObject): JsonObject {
  const displayName = data.displayName;
  return { ...data, displayName: typeof displayName === 'string' ? { text: displayName } : null };
}

import type { EventOrigin } from '../../stored-events/event-metadata.js';

/**
 * Who asked, why, and when: carried by every command into the metadata of the events it causes
 * (see stored-events/event-metadata.ts, which writes it).
 */
export type CommandContext = EventOrigin;

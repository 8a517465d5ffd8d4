import { describe, expect, it } from '@jest/globals';
import { matchesFilter } from '../../src/event-store/event-filter.js';

describe('EventFilter, checked on an event in hand (the log tail, the EventStoreDB adapter)', () => {
  const event = (streamName: string, type: string) => ({ streamName, type });

  it('lets everything through without a filter', () => {
    expect(matchesFilter(undefined, event('any', 'Any'))).toBe(true);
    expect(matchesFilter({ streamPrefixes: [], eventTypes: [] }, event('any', 'Any'))).toBe(true);
  });

  it('matches any of the stream prefixes', () => {
    const filter = { streamPrefixes: ['tenant-', 'tenantname-'] };
    expect(matchesFilter(filter, event('tenant-1', 'A'))).toBe(true);
    expect(matchesFilter(filter, event('tenantname-x', 'A'))).toBe(true);
    expect(matchesFilter(filter, event('user-1', 'A'))).toBe(false);
  });

  it('matches event types exactly, not as prefixes', () => {
    const filter = { eventTypes: ['Kept', 'Also'] };
    expect(matchesFilter(filter, event('s', 'Kept'))).toBe(true);
    expect(matchesFilter(filter, event('s', 'Also'))).toBe(true);
    expect(matchesFilter(filter, event('s', 'KeptToo'))).toBe(false);
  });

  it('matches one stream by its whole name, not as a prefix, together with the types', () => {
    const filter = { stream: 'tenant-1', eventTypes: ['Kept'] };
    expect(matchesFilter(filter, event('tenant-1', 'Kept'))).toBe(true);
    expect(matchesFilter(filter, event('tenant-10', 'Kept'))).toBe(false);
    expect(matchesFilter(filter, event('tenant-1', 'Dropped'))).toBe(false);
  });

  it('requires both lists to match when both are given', () => {
    const filter = { streamPrefixes: ['tenant-'], eventTypes: ['Kept'] };
    expect(matchesFilter(filter, event('tenant-1', 'Kept'))).toBe(true);
    expect(matchesFilter(filter, event('tenant-1', 'Dropped'))).toBe(false);
    expect(matchesFilter(filter, event('other-1', 'Kept'))).toBe(false);
  });
});

import { describe, expect, it } from '@jest/globals';
import { EVENT_TYPE, STREAM_NAME, type Filter } from '@eventstore/db-client';
import { buildServerFilter, exactTypesRegex } from '../../src/event-store/esdb/esdb-filter.js';

const regexOf = (filter: Filter): RegExp => new RegExp((filter as { regex: string }).regex);

describe('EventStoreDB filters: the server-side part', () => {
  it('filters on stream prefixes when they are given, even alongside event types', () => {
    const filter = buildServerFilter({
      streamPrefixes: ['tenant-', 'tenantname-'],
      eventTypes: ['TenantCreated'],
    });
    expect(filter.filterOn).toBe(STREAM_NAME);
    expect(filter).toMatchObject({ prefixes: ['tenant-', 'tenantname-'] });
  });

  it('filters on exact event types when only types are given', () => {
    const filter = buildServerFilter({ eventTypes: ['TenantCreated', 'TenantRenamed'] });
    expect(filter.filterOn).toBe(EVENT_TYPE);
    const regex = regexOf(filter);
    expect(regex.test('TenantCreated')).toBe(true);
    expect(regex.test('TenantRenamed')).toBe(true);
    expect(regex.test('TenantCreatedV2')).toBe(false);
    expect(regex.test('OldTenantCreated')).toBe(false);
  });

  it('keeps system events on the server when there is no filter', () => {
    for (const filter of [
      buildServerFilter(undefined),
      buildServerFilter({}),
      buildServerFilter({ streamPrefixes: [], eventTypes: [] }),
    ]) {
      expect(filter.filterOn).toBe(EVENT_TYPE);
      const regex = regexOf(filter);
      expect(regex.test('$statsCollected')).toBe(false);
      expect(regex.test('TenantCreated')).toBe(true);
    }
  });

  it("filters on one stream's exact name when one stream is given", () => {
    const filter = buildServerFilter({ stream: 'tenant-a.1', streamPrefixes: ['tenant-'] });
    expect(filter.filterOn).toBe(STREAM_NAME);
    const regex = regexOf(filter);
    expect(regex.test('tenant-a.1')).toBe(true);
    expect(regex.test('tenant-a.1-longer')).toBe(false);
    expect(regex.test('tenant-ax1')).toBe(false);
  });

  it('treats an empty prefix list as no stream filter', () => {
    expect(buildServerFilter({ streamPrefixes: [], eventTypes: ['A'] }).filterOn).toBe(EVENT_TYPE);
  });
});

describe('EventStoreDB filters: exact type regex', () => {
  it('escapes regex characters so a type matches only itself', () => {
    const regex = new RegExp(exactTypesRegex(['a.b', 'c+(d)', 'e|f']));
    expect(regex.test('a.b')).toBe(true);
    expect(regex.test('axb')).toBe(false);
    expect(regex.test('c+(d)')).toBe(true);
    expect(regex.test('ccc(d)')).toBe(false);
    expect(regex.test('e|f')).toBe(true);
    expect(regex.test('e')).toBe(false);
  });
});

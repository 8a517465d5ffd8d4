import { describe, expect, it } from '@jest/globals';
import { defaultMaxConnections } from './connection-limit.js';

const limits = (soft: string, hard: string) =>
  [
    'Limit                     Soft Limit           Hard Limit           Units',
    'Max processes             95060                95060                processes',
    `Max open files            ${soft.padEnd(21)}${hard.padEnd(21)}files`,
    'Max locked memory         8388608              8388608              bytes',
  ].join('\n');

describe('defaultMaxConnections', () => {
  it('leaves 256 descriptors of the soft open-files limit to the database connections and files', () => {
    expect(defaultMaxConnections(limits('1024', '524288'))).toBe(768);
    expect(defaultMaxConnections(limits('4096', '4096'))).toBe(3840);
  });

  it('keeps half of a low limit for connections', () => {
    expect(defaultMaxConnections(limits('300', '4096'))).toBe(150);
  });

  it('stays at 10000 for a high or no limit, or when the limit cannot be read', () => {
    expect(defaultMaxConnections(limits('1048576', '1048576'))).toBe(10_000);
    expect(defaultMaxConnections(limits('unlimited', 'unlimited'))).toBe(10_000);
    expect(defaultMaxConnections(undefined)).toBe(10_000);
  });
});

import { describe, expect, it } from '@jest/globals';
import { ProblemError } from './problem.js';
import { TenantRateLimit } from './tenant-rate-limit.js';

describe('TenantRateLimit', () => {
  const refusal = (limit: TenantRateLimit, tenantId: string): ProblemError | undefined => {
    try {
      limit.admit(tenantId);
      return undefined;
    } catch (error) {
      return error as ProblemError;
    }
  };

  it('admits everything at rate 0 (no limit)', () => {
    const limit = new TenantRateLimit(0, 0);
    for (let i = 0; i < 10_000; i++) expect(refusal(limit, 'a')).toBeUndefined();
  });

  it("holds one second's worth when no burst is set, then refills at the rate, each tenant on its own", () => {
    let now = 0;
    const limit = new TenantRateLimit(2, 0, () => now);
    expect([refusal(limit, 'a'), refusal(limit, 'a')]).toEqual([undefined, undefined]);
    const refused = refusal(limit, 'a');
    expect(refused?.problem).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(refused?.headers).toEqual({ 'Retry-After': '1' });
    expect(refusal(limit, 'b')).toBeUndefined();

    now += 500;
    expect(refusal(limit, 'a')).toBeUndefined();
    expect(refusal(limit, 'a')).toBeDefined();
  });

  it('lets a quiet tenant spend its whole burst at once, and says how long until the next request', () => {
    let now = 0;
    const limit = new TenantRateLimit(1, 3, () => now);
    for (let i = 0; i < 3; i++) expect(refusal(limit, 'a')).toBeUndefined();
    expect(refusal(limit, 'a')?.headers).toEqual({ 'Retry-After': '1' });

    // A long quiet while fills the bucket to its burst, not beyond.
    now += 60_000;
    for (let i = 0; i < 3; i++) expect(refusal(limit, 'a')).toBeUndefined();
    expect(refusal(limit, 'a')).toBeDefined();
  });
});

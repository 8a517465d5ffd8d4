import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { SEALED_PATTERN } from '../tenancy/personal-text.js';
import { newKeyMaterial, open, seal } from './personal-data.cipher.js';

const ann = { tenantId: randomUUID(), userId: 'ann@example.com' };
const key = () => ({ keyId: randomUUID(), key: newKeyMaterial() });

describe('sealing personal data', () => {
  it('opens with the key it was sealed with, for the person it was sealed for, and with nothing else', () => {
    const annKey = key();
    const sealed = seal(annKey, ann, 'Ann Example ✓');
    expect(sealed).toMatch(SEALED_PATTERN);
    expect(sealed).not.toContain('Ann');
    expect(open(annKey, ann, sealed)).toBe('Ann Example ✓');
    expect(open(key(), ann, sealed)).toBeUndefined();
    expect(open({ ...key(), keyId: annKey.keyId }, ann, sealed)).toBeUndefined();
    expect(open(annKey, { ...ann, userId: 'bob' }, sealed)).toBeUndefined();
    expect(open(annKey, { ...ann, tenantId: randomUUID() }, sealed)).toBeUndefined();
  });

  it('seals the same value the same way for the same person (the decider compares sealed values)', () => {
    const annKey = key();
    expect(seal(annKey, ann, 'Ann')).toBe(seal(annKey, ann, 'Ann'));
    expect(seal(annKey, ann, 'Ann')).not.toBe(seal(annKey, ann, 'Anne'));
    expect(seal(key(), ann, 'Ann')).not.toBe(seal(annKey, ann, 'Ann'));
  });

  it('refuses a value that was altered', () => {
    const annKey = key();
    const sealed = seal(annKey, ann, 'Ann');
    // A character well inside the payload: each carries six whole bits (the last may carry padding).
    const at = sealed.length - 10;
    const altered = sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
    expect(open(annKey, ann, altered)).toBeUndefined();
    expect(open(annKey, ann, 'pd1.nonsense')).toBeUndefined();
  });

  it('fits the longest display name into the documented form', () => {
    expect(seal(key(), ann, '𝔄'.repeat(200))).toMatch(SEALED_PATTERN);
  });
});

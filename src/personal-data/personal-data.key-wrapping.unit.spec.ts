import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { newKeyMaterial } from './personal-data.cipher.js';
import { KeyWrappingError, newKeyWrapper, openKeyWrapper } from './personal-data.key-wrapping.js';

const PASSPHRASE = 'correct horse battery staple';
const owner = { tenantId: randomUUID(), userId: 'ann@example.com', keyId: randomUUID() };

describe('wrapping personal-data keys for an export', () => {
  const wrapper = newKeyWrapper(PASSPHRASE);
  const key = newKeyMaterial();
  const wrapped = wrapper.wrap({ ...owner, key });

  it('unwraps with the same passphrase, for the same owner, to the same bytes', () => {
    expect(openKeyWrapper(wrapper.header, PASSPHRASE).unwrap(owner, wrapped)).toEqual(key);
    expect(Buffer.from(wrapped, 'base64url').includes(key)).toBe(false);
  });

  it('refuses the wrong passphrase at the header, before any key is tried', () => {
    expect(() => openKeyWrapper(wrapper.header, `${PASSPHRASE}!`)).toThrow(KeyWrappingError);
  });

  it('refuses a key passed off as another person’s, or altered', () => {
    const opened = openKeyWrapper(wrapper.header, PASSPHRASE);
    expect(() => opened.unwrap({ ...owner, userId: 'bob' }, wrapped)).toThrow(KeyWrappingError);
    expect(() => opened.unwrap({ ...owner, tenantId: randomUUID() }, wrapped)).toThrow(KeyWrappingError);
    const at = wrapped.length - 10;
    const altered = wrapped.slice(0, at) + (wrapped[at] === 'A' ? 'B' : 'A') + wrapped.slice(at + 1);
    expect(() => opened.unwrap(owner, altered)).toThrow(KeyWrappingError);
  });

  it('refuses a short passphrase and an unknown key derivation', () => {
    expect(() => newKeyWrapper('too short')).toThrow(/at least 16/);
    expect(() => openKeyWrapper({ ...wrapper.header, cost: 0 }, PASSPHRASE)).toThrow(KeyWrappingError);
  });
});

import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { keyIdOfSealed, SEALED_PATTERN } from '../tenancy/personal-text.js';

/** One person's key: 32 random bytes, kept outside the log (personal_data_keys). */
export interface PersonalDataKey {
  readonly keyId: string;
  readonly key: Buffer;
}

/** Whose data a value is: the key and the ciphertext are bound to this person of this tenant. */
export interface DataSubject {
  readonly tenantId: string;
  readonly userId: string;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function newKeyMaterial(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * Seals a value with the person's key: AES-256-GCM with a synthetic IV (an HMAC of the value under a
 * second key derived from the same key), so the same value sealed for the same person seals the
 * same. The decider compares sealed values to tell "unchanged" from "changed", and it never sees a
 * plain text. The IV repeats only for the very same value, which reveals nothing beyond equality,
 * and only to someone who already holds two sealed values of the same person. The tenant, the user
 * and the key id are authenticated with it, so a sealed value cannot be passed off as another's.
 */
export function seal(key: PersonalDataKey, subject: DataSubject, plaintext: string): string {
  const { encryption, iv: ivKey } = derivedKeys(key.key);
  const aad = associatedData(subject, key.keyId);
  const iv = createHmac('sha256', ivKey).update(aad).update(plaintext, 'utf8').digest().subarray(0, IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', encryption, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const sealed = `pd1.${key.keyId}.${Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url')}`;
  if (!SEALED_PATTERN.test(sealed)) throw new Error('a sealed value outside the documented form');
  return sealed;
}

/** The plain text, or undefined when the key is not the one it was sealed with or the value was altered. */
export function open(key: PersonalDataKey, subject: DataSubject, sealed: string): string | undefined {
  if (!SEALED_PATTERN.test(sealed) || keyIdOfSealed(sealed) !== key.keyId) return undefined;
  const payload = Buffer.from(sealed.slice(41), 'base64url');
  if (payload.length < IV_BYTES + TAG_BYTES) return undefined;
  const { encryption } = derivedKeys(key.key);
  try {
    const decipher = createDecipheriv('aes-256-gcm', encryption, payload.subarray(0, IV_BYTES));
    decipher.setAAD(associatedData(subject, key.keyId));
    decipher.setAuthTag(payload.subarray(payload.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(payload.subarray(IV_BYTES, payload.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    return undefined;
  }
}

function derivedKeys(key: Buffer): { readonly encryption: Buffer; readonly iv: Buffer } {
  return {
    encryption: Buffer.from(
      hkdfSync('sha256', key, Buffer.alloc(0), 'tenancy personal data: encryption', 32),
    ),
    iv: Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'tenancy personal data: synthetic iv', 32)),
  };
}

function associatedData(subject: DataSubject, keyId: string): Buffer {
  return Buffer.from(`${subject.tenantId}\n${subject.userId}\n${keyId}`, 'utf8');
}

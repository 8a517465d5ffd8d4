import { createCipheriv, createDecipheriv, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * How personal-data keys travel in an export file: never in clear. Each key is encrypted
 * (AES-256-GCM, bound to its tenant, person and key id) under a key derived with scrypt from a
 * passphrase the operator gives to both `tenancy export` and `tenancy import`. The file's first line
 * names the salt and cost and carries a check value, so that an import with the wrong passphrase is
 * refused before it writes anything.
 */
export interface KeyWrappingHeader {
  readonly kdf: 'scrypt';
  /** base64url */
  readonly salt: string;
  readonly cost: number;
  readonly blockSize: number;
  readonly parallelization: number;
  /** A known text wrapped under the derived key: proves the passphrase before any event is imported. */
  readonly check: string;
}

/** One key as it is wrapped: whose it is, and its 32 bytes. */
export interface PlainPersonalDataKey {
  readonly tenantId: string;
  readonly userId: string;
  readonly keyId: string;
  readonly key: Buffer;
}

export interface KeyWrapper {
  readonly header: KeyWrappingHeader;
  /** base64url of iv, ciphertext and tag. */
  wrap(key: PlainPersonalDataKey): string;
  /** The key's bytes; throws when the value was not wrapped for this person under this passphrase. */
  unwrap(owner: Omit<PlainPersonalDataKey, 'key'>, wrapped: string): Buffer;
}

export class KeyWrappingError extends Error {
  override name = 'KeyWrappingError';
}

/** Shortest passphrase accepted: the file may travel, and scrypt only slows down guessing. */
export const MIN_PASSPHRASE_LENGTH = 16;
const CHECK_TEXT = 'tenancy personal-data keys';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** scrypt's N (2^15), r and p: about 32 MiB and a tenth of a second, once per export or import. */
const COST = 32_768;
const BLOCK_SIZE = 8;
const PARALLELIZATION = 1;

export function newKeyWrapper(passphrase: string): KeyWrapper {
  requireLongEnough(passphrase);
  const salt = randomBytes(16);
  const wrappingKey = derive(passphrase, salt, COST, BLOCK_SIZE, PARALLELIZATION);
  const header: KeyWrappingHeader = {
    kdf: 'scrypt',
    salt: salt.toString('base64url'),
    cost: COST,
    blockSize: BLOCK_SIZE,
    parallelization: PARALLELIZATION,
    check: encrypt(wrappingKey, Buffer.from(CHECK_TEXT, 'utf8'), 'check'),
  };
  return wrapperOf(header, wrappingKey);
}

/** The wrapper of an export file's keys; throws KeyWrappingError for the wrong passphrase. */
export function openKeyWrapper(header: KeyWrappingHeader, passphrase: string): KeyWrapper {
  if (
    header.kdf !== 'scrypt' ||
    typeof header.salt !== 'string' ||
    ![header.cost, header.blockSize, header.parallelization].every(
      (value) => Number.isInteger(value) && value > 0 && value <= 1_048_576,
    )
  )
    throw new KeyWrappingError('the key wrapping line names an unknown key derivation');
  const wrappingKey = derive(
    passphrase,
    Buffer.from(header.salt, 'base64url'),
    header.cost,
    header.blockSize,
    header.parallelization,
  );
  const check = decrypt(wrappingKey, header.check, 'check');
  const expected = Buffer.from(CHECK_TEXT, 'utf8');
  if (check === undefined || check.length !== expected.length || !timingSafeEqual(check, expected))
    throw new KeyWrappingError('the passphrase is not the one the export was written with');
  return wrapperOf(header, wrappingKey);
}

function wrapperOf(header: KeyWrappingHeader, wrappingKey: Buffer): KeyWrapper {
  return {
    header,
    wrap: (key) => encrypt(wrappingKey, key.key, ownerOf(key)),
    unwrap: (owner, wrapped) => {
      const key = decrypt(wrappingKey, wrapped, ownerOf(owner));
      if (key?.length !== 32)
        throw new KeyWrappingError(`the key of ${owner.userId} in ${owner.tenantId} does not unwrap`);
      return key;
    },
  };
}

/** Throws a KeyWrappingError for a passphrase shorter than MIN_PASSPHRASE_LENGTH characters. */
export function requireLongEnough(passphrase: string): void {
  if ([...passphrase].length < MIN_PASSPHRASE_LENGTH)
    throw new KeyWrappingError(`the passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`);
}

function derive(passphrase: string, salt: Buffer, N: number, r: number, p: number): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, 32, { N, r, p, maxmem: 256 * N * r + 1_048_576 });
}

function ownerOf(owner: Omit<PlainPersonalDataKey, 'key'>): string {
  return `${owner.tenantId}\n${owner.userId}\n${owner.keyId}`;
}

function encrypt(key: Buffer, plaintext: Buffer, associated: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(associated, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
}

function decrypt(key: Buffer, wrapped: string, associated: string): Buffer | undefined {
  const payload = Buffer.from(wrapped, 'base64url');
  if (payload.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, payload.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(associated, 'utf8'));
    decipher.setAuthTag(payload.subarray(payload.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(payload.subarray(IV_BYTES, payload.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    return undefined;
  }
}

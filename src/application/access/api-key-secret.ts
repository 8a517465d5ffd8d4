import { createHash, randomBytes } from 'node:crypto';

/**
 * Recognisable in logs, config files and secret scanners, and lets the guard tell a tenant key
 * from the operator key without a lookup.
 */
export const API_KEY_SECRET_PREFIX = 'tnc_';
const SECRET_BYTES = 32;

export interface GeneratedSecret {
  /** Shown to the caller once; never stored. */
  readonly secret: string;
  /** What the tenant's stream records: 'sha256:<hex>'. */
  readonly secretHash: string;
}

export function generateApiKeySecret(): GeneratedSecret {
  const secret = API_KEY_SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
  return { secret, secretHash: secretHashOf(secret) };
}

/** The digest the registry looks keys up by. A plain SHA-256 suffices: secrets have 256 random bits. */
export function secretDigestOf(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function secretHashOf(secret: string): string {
  return `sha256:${secretDigestOf(secret).toString('hex')}`;
}

/** The digest inside a recorded secretHash; undefined for anything that is not one. */
export function digestOfSecretHash(secretHash: string): Buffer | undefined {
  const match = /^sha256:([0-9a-f]{64})$/.exec(secretHash);
  return match ? Buffer.from(match[1] as string, 'hex') : undefined;
}

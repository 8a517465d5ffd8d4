import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/postgres-pool.js';
import type { PersonalText } from '../tenancy/personal-text.js';
import {
  newKeyMaterial,
  open,
  seal,
  type DataSubject,
  type PersonalDataKey,
} from './personal-data.cipher.js';
import type { KeyWrapper } from './personal-data.key-wrapping.js';
import type { LookupNeeds, PersonalDataLookup } from './personal-data.reveal.js';

/**
 * One key as `tenancy export` writes it and `tenancy import` reads it back: wrapped under the
 * export's passphrase, never in clear (personal-data.key-wrapping.ts).
 */
export interface ExportedKey {
  readonly tenantId: string;
  readonly userId: string;
  readonly keyId: string;
  /** base64url of the key encrypted under the export's wrapping key. */
  readonly wrappedKey: string;
}

export interface ExportedErasure {
  readonly tenantId: string;
  readonly userId: string;
  readonly erasedAt: string;
}

/**
 * The keys of personal data, one per person and tenant, in PostgreSQL beside (never in) the event
 * log, and the record of who was erased (migrations/0005). Erasing a person deletes their key: from
 * then on every value sealed with it, in the log, in read models, in exports and in backups of the
 * log, is unreadable, while the log itself stays exactly as written.
 *
 * Every read path asks for the keys it needs per batch (one query), never caches them: an erasure
 * on any instance takes effect on every instance at once.
 */
@Injectable()
export class PersonalDataVault {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** Seals a value with the person's key, making the key on first use. */
  async seal(subject: DataSubject, plaintext: string): Promise<{ readonly sealed: string }> {
    return { sealed: seal(await this.keyOf(subject), subject, plaintext) };
  }

  /**
   * Deletes the person's key and records the erasure, in one statement. Deleting a row leaves its
   * bytes in the table's pages until VACUUM reuses them, and in WAL archives and backups until they
   * expire: docs/personal-data.md says what erasure does and does not reach.
   */
  async erase(subject: DataSubject): Promise<void> {
    await this.pool.query(
      `WITH gone AS (DELETE FROM personal_data_keys WHERE tenant_id = $1 AND user_id = $2 RETURNING 1)
       INSERT INTO personal_data_erasures (tenant_id, user_id, erased_at) VALUES ($1, $2, now())
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET erased_at = excluded.erased_at`,
      [subject.tenantId, subject.userId],
    );
  }

  /** The keys and erasures a batch needs, in one query (none when it needs nothing). */
  async lookup(needs: LookupNeeds): Promise<PersonalDataLookup> {
    const keys = new Map<string, PersonalDataKey>();
    const erased = new Set<string>();
    if (needs.keys.length > 0 || needs.subjects.length > 0) {
      const { rows } = await this.pool.query<{
        kind: 'key' | 'erased';
        tenant_id: string;
        id: string;
        key: Buffer | null;
      }>(
        `SELECT 'key' AS kind, k.tenant_id, k.key_id::text AS id, k.key
           FROM personal_data_keys k
           JOIN unnest($1::uuid[], $2::uuid[]) AS wanted (tenant_id, key_id)
             ON k.tenant_id = wanted.tenant_id AND k.key_id = wanted.key_id
         UNION ALL
         SELECT 'erased', e.tenant_id, e.user_id, NULL
           FROM personal_data_erasures e
           JOIN unnest($3::uuid[], $4::text[]) AS wanted (tenant_id, user_id)
             ON e.tenant_id = wanted.tenant_id AND e.user_id = wanted.user_id`,
        [
          needs.keys.map((need) => need.tenantId),
          needs.keys.map((need) => need.keyId),
          needs.subjects.map((subject) => subject.tenantId),
          needs.subjects.map((subject) => subject.userId),
        ],
      );
      for (const row of rows) {
        if (row.kind === 'key' && row.key !== null)
          keys.set(`${row.tenant_id}/${row.id}`, { keyId: row.id, key: row.key });
        else erased.add(subjectKey({ tenantId: row.tenant_id, userId: row.id }));
      }
    }
    return {
      open: (subject, sealed) => {
        const key = keys.get(`${subject.tenantId}/${sealed.slice(4, 40)}`);
        return key === undefined ? undefined : open(key, subject, sealed);
      },
      isErased: (subject) => erased.has(subjectKey(subject)),
    };
  }

  /** The plain text of one value (null: none, or erased). */
  async reveal(subject: DataSubject, value: PersonalText | null): Promise<string | null> {
    if (value === null) return null;
    if (!('sealed' in value)) {
      const lookup = await this.lookup({ keys: [], subjects: [subject] });
      return lookup.isErased(subject) ? null : value.text;
    }
    const lookup = await this.lookup({
      keys: [{ tenantId: subject.tenantId, keyId: value.sealed.slice(4, 40) }],
      subjects: [],
    });
    return lookup.open(subject, value.sealed) ?? null;
  }

  /**
   * Every erasure of one tenant (or of every tenant: `{ all: true }`), and its keys wrapped for an
   * export; without a wrapper no key leaves the database, and only their number is told.
   */
  async exportable(
    scope: { readonly tenantId: string } | { readonly all: true },
    wrapper: KeyWrapper | undefined,
  ): Promise<{
    readonly keys: ExportedKey[];
    readonly keysLeftOut: number;
    readonly erasures: ExportedErasure[];
  }> {
    const tenantId = 'tenantId' in scope ? scope.tenantId : null;
    const keys = await this.pool.query<{ tenant_id: string; user_id: string; key_id: string; key: Buffer }>(
      `SELECT tenant_id, user_id, key_id, key FROM personal_data_keys
       WHERE $1::uuid IS NULL OR tenant_id = $1::uuid ORDER BY tenant_id, user_id`,
      [tenantId],
    );
    const erasures = await this.pool.query<{ tenant_id: string; user_id: string; erased_at: Date }>(
      `SELECT tenant_id, user_id, erased_at FROM personal_data_erasures
       WHERE $1::uuid IS NULL OR tenant_id = $1::uuid ORDER BY tenant_id, user_id`,
      [tenantId],
    );
    return {
      keys:
        wrapper === undefined
          ? []
          : keys.rows.map((row) => {
              const owner = { tenantId: row.tenant_id, userId: row.user_id, keyId: row.key_id };
              return { ...owner, wrappedKey: wrapper.wrap({ ...owner, key: row.key }) };
            }),
      keysLeftOut: wrapper === undefined ? keys.rows.length : 0,
      erasures: erasures.rows.map((row) => ({
        tenantId: row.tenant_id,
        userId: row.user_id,
        erasedAt: row.erased_at.toISOString(),
      })),
    };
  }

  /**
   * Restores an exported key. A key in an export file was alive when the export read the keys,
   * after its events: a person erased before then has no key in the file.
   */
  async importKey(key: ExportedKey, wrapper: KeyWrapper): Promise<void> {
    const material = wrapper.unwrap(key, key.wrappedKey);
    await this.pool.query(
      `INSERT INTO personal_data_keys (tenant_id, user_id, key_id, key) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [key.tenantId, key.userId, key.keyId, material],
    );
  }

  /** Records an erasure from an export file (a line, or a PersonalDataErased event of its log). */
  async importErasure(erasure: ExportedErasure): Promise<void> {
    await this.pool.query(
      `INSERT INTO personal_data_erasures (tenant_id, user_id, erased_at) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET erased_at = greatest(personal_data_erasures.erased_at, excluded.erased_at)`,
      [erasure.tenantId, erasure.userId, erasure.erasedAt],
    );
  }

  /** The person's key, made on first use; two first uses at once agree on one key. */
  private async keyOf(subject: DataSubject): Promise<PersonalDataKey> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { rows } = await this.pool.query<{ key_id: string; key: Buffer }>(
        `WITH made AS (
           INSERT INTO personal_data_keys (tenant_id, user_id, key_id, key) VALUES ($1, $2, $3, $4)
           ON CONFLICT (tenant_id, user_id) DO NOTHING RETURNING key_id, key)
         SELECT key_id, key FROM made
         UNION ALL
         SELECT key_id, key FROM personal_data_keys WHERE tenant_id = $1 AND user_id = $2`,
        [subject.tenantId, subject.userId, randomUUID(), newKeyMaterial()],
      );
      // Empty only when a concurrent first use committed after this statement's snapshot: read again.
      const row = rows[0];
      if (row !== undefined) return { keyId: row.key_id, key: row.key };
    }
    throw new Error(`no personal data key for ${subject.userId} in ${subject.tenantId}`);
  }
}

function subjectKey(subject: DataSubject): string {
  return `${subject.tenantId}/${subject.userId}`;
}

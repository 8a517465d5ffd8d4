import { describe, expect, it } from '@jest/globals';
import {
  apiKey,
  apiKeyIssued,
  apiKeyRevoked,
  fold,
  grantId,
  given,
  ISSUED_AT,
  ROOT_ID,
  roleGranted,
  roleRevoked,
  rootCreated,
  SECRET_HASH,
  TENANT_ID,
  tenantCreated,
  tenantDeleted,
  tenantDeletionStarted,
  tenantSuspended,
  workspaceCreated,
  workspaceDeleted,
  workspaceDeletionStarted,
  workspaceId,
} from './decider.test-kit.js';
import type { IssueApiKey, TenancyCommand } from './tenancy.commands.js';
import type { TenancyEvent } from './tenancy.events.js';
import { decide, MAX_ACTIVE_API_KEYS } from './tenancy.decider.js';
import { apiKeyGrantIdOf } from './api-key-grants.js';
import { requireActingApiKey } from './api-key-standing.js';
import { ActingApiKeyInactive } from './tenancy.errors.js';

const A = workspaceId(0xa);
const B = workspaceId(0xb);
const KEY = '5f0c8a52-6a3e-4c41-9a43-0e6f3c1d2b7a';
const OTHER_KEY = '6a1d9b63-7b4f-4d52-8b54-1f7a4d2e3c8b';

const active = [tenantCreated(), rootCreated()];
const tree = [...active, workspaceCreated(A, ROOT_ID, 'A'), workspaceCreated(B, A, 'B')];

const issue = (overrides: Partial<Omit<IssueApiKey, 'type' | 'tenantId'>> = {}): TenancyCommand => ({
  type: 'IssueApiKey',
  tenantId: TENANT_ID,
  apiKeyId: KEY,
  role: 'admin',
  secretHash: SECRET_HASH,
  issuedAt: ISSUED_AT,
  ...overrides,
});
const revoke = (apiKeyId = KEY): TenancyCommand => ({ type: 'RevokeApiKey', tenantId: TENANT_ID, apiKeyId });

describe('IssueApiKey', () => {
  describe('emits', () => {
    it('issues a tenant-wide key, recording only the digest of the secret', () => {
      given(...active)
        .when(issue({ role: 'reader', name: '  CI  ' }))
        .then(apiKeyIssued(KEY, { role: 'reader', name: 'CI' }));
    });

    it('issues a key scoped to a live workspace and its descendants', () => {
      given(...tree)
        .when(issue({ workspaceId: B }))
        .then(apiKeyIssued(KEY, { workspaceId: B }));
    });

    it('creates the root first when the key is scoped to it before its bootstrap, and only then', () => {
      given(tenantCreated())
        .when(issue({ workspaceId: ROOT_ID }))
        .then(rootCreated(), apiKeyIssued(KEY, { workspaceId: ROOT_ID }));
      given(tenantCreated())
        .when(issue({ workspaceId: workspaceId(0xb) }))
        .thenFails('WORKSPACE_NOT_FOUND');
    });

    it('folds the key into the state, and its revocation', () => {
      const issued = fold([...active, apiKeyIssued(KEY)]);
      expect(issued.apiKeys.get(KEY)?.status).toBe('active');
      expect(issued.activeApiKeyCount).toBe(1);
      const revoked = fold([...active, apiKeyIssued(KEY), apiKeyRevoked(KEY)]);
      expect(revoked.apiKeys.get(KEY)?.status).toBe('revoked');
      expect(revoked.activeApiKeyCount).toBe(0);
    });
  });

  describe('refuses', () => {
    it('a tenant that does not exist, is being deleted or was deleted', () => {
      given().when(issue()).thenFails('TENANT_NOT_FOUND');
      given(...active, tenantDeletionStarted())
        .when(issue())
        .thenFails('TENANT_DELETING');
      given(
        ...active,
        tenantDeletionStarted(),
        workspaceDeleted(ROOT_ID, null, 'tenant-deleted', true),
        tenantDeleted(),
      )
        .when(issue())
        .thenFails('TENANT_NOT_FOUND');
    });

    it('a workspace scope that is unknown, deleted, or being deleted', () => {
      given(...tree)
        .when(issue({ workspaceId: workspaceId(0xdead) }))
        .thenFails('WORKSPACE_NOT_FOUND');
      given(...tree, workspaceDeleted(B, A, 'requested'))
        .when(issue({ workspaceId: B }))
        .thenFails('WORKSPACE_NOT_FOUND');
      given(...tree, workspaceDeletionStarted(A))
        .when(issue({ workspaceId: B }))
        .thenFails('WORKSPACE_DELETING');
    });

    it('malformed input: ids, role, digest, time and name are all checked by the decider too', () => {
      given(...active)
        .when(issue({ apiKeyId: KEY.toUpperCase() }))
        .thenFails('VALIDATION_FAILED');
      given(...active)
        .when(issue({ role: 'owner' as 'admin' }))
        .thenFails('VALIDATION_FAILED');
      given(...active)
        .when(issue({ secretHash: 'plain-secret' }))
        .thenFails('VALIDATION_FAILED');
      given(...active)
        .when(issue({ issuedAt: 'yesterday' }))
        .thenFails('VALIDATION_FAILED');
      given(...active)
        .when(issue({ name: 'a\nb' }))
        .thenFails('VALIDATION_FAILED');
      given(...active)
        .when(issue({ workspaceId: 'not-a-uuid' }))
        .thenFails('VALIDATION_FAILED');
    });

    it('an id already used for another key, and a revoked id (key ids are never reused)', () => {
      given(...active, apiKeyIssued(KEY))
        .when(issue({ role: 'reader' }))
        .thenFails('API_KEY_ID_TAKEN');
      given(...active, apiKeyIssued(KEY))
        .when(issue({ secretHash: `sha256:${'cd'.repeat(32)}` }))
        .thenFails('API_KEY_ID_TAKEN');
      given(...active, apiKeyIssued(KEY), apiKeyRevoked(KEY))
        .when(issue())
        .thenFails('API_KEY_ID_TAKEN');
    });

    it(`more than ${MAX_ACTIVE_API_KEYS} active keys, and counts revoked ones out`, () => {
      const keys = Array.from({ length: MAX_ACTIVE_API_KEYS }, (_, n) =>
        apiKeyIssued(workspaceId(0x1000 + n)),
      );
      // With the limit and the count, as a quota's refusal has them.
      given(...active, ...keys)
        .when(issue())
        .thenFails('API_KEY_LIMIT_REACHED', { limit: MAX_ACTIVE_API_KEYS, current: MAX_ACTIVE_API_KEYS });
      given(...active, ...keys, apiKeyRevoked(workspaceId(0x1000)))
        .when(issue())
        .then(apiKeyIssued(KEY));
    });
  });

  describe('stays quiet', () => {
    it('on a repeat of the same issue', () => {
      given(...tree, apiKeyIssued(KEY, { workspaceId: B, name: 'CI' }))
        .when(issue({ workspaceId: B, name: 'CI' }))
        .thenNothing();
    });
  });
});

describe('RevokeApiKey', () => {
  it('emits ApiKeyRevoked for an active key', () => {
    given(...active, apiKeyIssued(KEY), apiKeyIssued(OTHER_KEY))
      .when(revoke())
      .then(apiKeyRevoked(KEY));
  });

  it('refuses a key the tenant never issued', () => {
    given(...active, apiKeyIssued(OTHER_KEY))
      .when(revoke())
      .thenFails('API_KEY_NOT_FOUND');
  });

  it('refuses a tenant that is not active: its keys are already dead', () => {
    given(...active, apiKeyIssued(KEY), tenantDeletionStarted())
      .when(revoke())
      .thenFails('TENANT_DELETING');
    given().when(revoke()).thenFails('TENANT_NOT_FOUND');
  });

  it('stays quiet for a key already revoked', () => {
    given(...active, apiKeyIssued(KEY), apiKeyRevoked(KEY))
      .when(revoke())
      .thenNothing();
  });
});

describe('a workspace that is deleted', () => {
  const scopeGrantOn = (apiKeyId: string, workspace: string) =>
    roleRevoked(apiKeyGrantIdOf(apiKeyId), apiKey(apiKeyId), 'admin', workspace, 'workspace-deleted');

  it('revokes the keys scoped to it, right before it goes, and leaves the others', () => {
    given(...tree, apiKeyIssued(KEY, { workspaceId: B }), apiKeyIssued(OTHER_KEY, { workspaceId: A }))
      .when({ type: 'DeleteWorkspace', tenantId: TENANT_ID, workspaceId: B, cascade: false })
      .then(scopeGrantOn(KEY, B), apiKeyRevoked(KEY), workspaceDeleted(B, A, 'requested'));
  });

  it('in a cascade, revokes each scoped key with its grants elsewhere, each grant once, children first', () => {
    const history = [
      ...tree,
      apiKeyIssued(KEY, { workspaceId: B }),
      apiKeyIssued(OTHER_KEY, { workspaceId: A }),
      roleGranted(grantId(1), apiKey(KEY), 'viewer', ROOT_ID),
      roleGranted(grantId(2), apiKey(OTHER_KEY), 'viewer', B),
      workspaceDeletionStarted(A),
    ];
    const events = decide({ type: 'ContinueDeletion', tenantId: TENANT_ID, maxBatch: 10 }, fold(history));
    expect(events).toEqual([
      scopeGrantOn(KEY, B),
      roleRevoked(grantId(2), apiKey(OTHER_KEY), 'viewer', B, 'workspace-deleted'),
      roleRevoked(grantId(1), apiKey(KEY), 'viewer', ROOT_ID, 'api-key-revoked'),
      apiKeyRevoked(KEY),
      workspaceDeleted(B, A, 'cascade'),
      scopeGrantOn(OTHER_KEY, A),
      apiKeyRevoked(OTHER_KEY),
      workspaceDeleted(A, ROOT_ID, 'cascade'),
    ]);
    const after = fold(events, fold(history));
    expect(after.activeApiKeyCount).toBe(0);
    expect([...after.apiKeys.values()].map((key) => key.status)).toEqual(['revoked', 'revoked']);
  });
});

describe('a command made with a key', () => {
  const acting =
    (...events: TenancyEvent[]) =>
    () =>
      requireActingApiKey(fold(events), KEY);

  it('is decided while the key may act, the tenant suspended included (it then refuses the change itself)', () => {
    expect(acting(...active, apiKeyIssued(KEY))).not.toThrow();
    expect(acting(...tree, apiKeyIssued(KEY, { workspaceId: B }), workspaceDeletionStarted(B))).not.toThrow();
    expect(acting(...active, apiKeyIssued(KEY), tenantSuspended())).not.toThrow();
  });

  it('is refused once the key is revoked, unknown, without its workspace, or its tenant is going', () => {
    for (const events of [
      [...active, apiKeyIssued(KEY), apiKeyRevoked(KEY)],
      [...active, apiKeyIssued(OTHER_KEY)],
      [...tree, apiKeyIssued(KEY, { workspaceId: B }), workspaceDeleted(B, A, 'requested')],
      [...active, apiKeyIssued(KEY), tenantDeletionStarted()],
    ]) {
      expect(acting(...events)).toThrow(ActingApiKeyInactive);
    }
  });
});

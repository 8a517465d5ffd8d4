import { describe, expect, it } from '@jest/globals';
import { TENANT_STREAM_PREFIX, tenantIdOfStream, tenantStreamName } from './tenant-stream.js';
import { rootWorkspaceIdOf } from './root-workspace.js';
import { isCanonicalUuid, uuidV5 } from './uuid.js';

const DNS_NAMESPACE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const TENANT = '3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2c';

describe('uuidV5', () => {
  it('matches the published vector for www.example.com in the DNS namespace', () => {
    expect(uuidV5('www.example.com', DNS_NAMESPACE)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('accepts an upper-case namespace as the same namespace', () => {
    expect(uuidV5('www.example.com', DNS_NAMESPACE.toUpperCase())).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('refuses a namespace that is not a UUID', () => {
    expect(() => uuidV5('root', 'tenant-1')).toThrow(/namespace must be a UUID/);
  });
});

describe('rootWorkspaceIdOf', () => {
  it('is deterministic, so a redelivered bootstrap cannot create a second root', () => {
    expect(rootWorkspaceIdOf(TENANT)).toBe(rootWorkspaceIdOf(TENANT));
    expect(rootWorkspaceIdOf(TENANT)).toBe(uuidV5('root', TENANT));
  });

  it('differs per tenant', () => {
    expect(rootWorkspaceIdOf(TENANT)).not.toBe(rootWorkspaceIdOf('3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2d'));
  });

  it('is a canonical version 5, RFC 4122 variant UUID', () => {
    const id = rootWorkspaceIdOf(TENANT);
    expect(isCanonicalUuid(id)).toBe(true);
    expect(id[14]).toBe('5');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
  });
});

describe('tenant stream names', () => {
  it('are the prefix followed by the tenantId, and round-trip', () => {
    expect(tenantStreamName(TENANT)).toBe(`tenant-${TENANT}`);
    expect(TENANT_STREAM_PREFIX).toBe('tenant-');
    expect(tenantIdOfStream(tenantStreamName(TENANT))).toBe(TENANT);
  });

  it('do not claim other streams', () => {
    expect(tenantIdOfStream('tenantname-abc')).toBeUndefined();
    expect(tenantIdOfStream('tenant-')).toBeUndefined();
  });
});

describe('isCanonicalUuid', () => {
  it('accepts lowercase UUIDs only', () => {
    expect(isCanonicalUuid(TENANT)).toBe(true);
    expect(isCanonicalUuid(TENANT.toUpperCase())).toBe(false);
    expect(isCanonicalUuid(`${TENANT} `)).toBe(false);
    expect(isCanonicalUuid(42)).toBe(false);
  });
});

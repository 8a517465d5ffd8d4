import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { accessFixture } from './access-fixture.js';

/**
 * Thousands of random and hostile requests against the write and read routes, each built to be
 * invalid in at least one way (so none may succeed): every answer must be a 4xx, never a 5xx, and
 * no refused request may append an event or change a read model.
 */
const INJECTIONS = [
  "'; DROP TABLE events; --",
  "' OR '1'='1",
  '") OR 1=1 --',
  "Robert'); DELETE FROM read_model.workspaces; --",
  '{"$gt": ""}',
  '{"__proto__": {"admin": true}}',
  '__proto__',
  'constructor',
  '../../../etc/passwd',
  '%00',
  '%E0%A4%A',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  'NaN',
  'Infinity',
  '-0',
  '1e400',
  '99999999999999999999999999',
  'null',
  'true',
];
const CONTROL = ['\u0000', '\u0007', '\n', '\r', '\t', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029'];
/** Bidirectional controls and invisible characters: a name that passes for another. */
const SPOOFING = ['\u202e', '\u202a', '\u2066', '\u2069', '\u200b', '\u2060', '\ufeff', '\u180e'];

/** Anything at all as a string, biased to the nasty. */
const anyString = fc.oneof(
  fc.constantFrom(...INJECTIONS),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** A name no route may accept. */
const invalidName = fc.oneof(
  fc.tuple(anyString, fc.constantFrom(...CONTROL), anyString).map(([a, c, b]) => a + c + b),
  fc.tuple(anyString, fc.constantFrom(...SPOOFING), anyString).map(([a, c, b]) => a + c + b),
  fc.constantFrom('', ' ', '   ', '\u3000'),
  fc.integer({ min: 201, max: 3_000 }).map((length) => 'n'.repeat(length)),
  fc.integer({ min: 201, max: 400 }).map((length) => '🦄'.repeat(length)),
  fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.bigInt().map(String).map(Number)),
  fc.array(anyString, { maxLength: 3 }),
  fc.dictionary(anyString, anyString, { maxKeys: 3 }),
);

/** Whether the text fails to parse as JSON. */
function isNotJson(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
}

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Strings that are not UUIDs, some of them nearly. */
const malformedUuid = fc.oneof(
  anyString.filter((value) => !UUID_SHAPE.test(value) && value.length > 0),
  fc.uuid().map((uuid) => `${uuid}0`),
  fc.uuid().map((uuid) => uuid.slice(1)),
  fc.uuid().map((uuid) => `${uuid.slice(0, 8)}g${uuid.slice(9)}`),
  fc.uuid().map((uuid) => uuid.replaceAll('-', '')),
  fc.uuid().map((uuid) => `{${uuid}}`),
);

// Doubles without NaN and the infinities: JSON writes those as null, and an explicit null for an
// optional field is a valid request (it means "absent"), not a hostile one.
const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });

const wrongType = fc.oneof(
  fc.integer(),
  finiteDouble,
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);

const deepJson = fc.integer({ min: 50, max: 5_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth));

/** Headers that ride along on any request: none of them may turn a refusal into a crash. */
const noiseHeaders = fc.dictionary(
  fc.constantFrom('x-correlation-id', 'x-forwarded-for', 'accept', 'accept-language', 'x-random', 'cookie'),
  fc.oneof(
    fc.string({ maxLength: 40 }).map((value) => value.replace(/[^\x20-\x7e]/g, '')),
    fc.integer({ min: 1, max: 8_000 }).map((length) => 'h'.repeat(length)),
    fc.constantFrom(...INJECTIONS.map((value) => value.replace(/[^\x20-\x7e]/g, ''))),
  ),
  { maxKeys: 3 },
);

/** Authorization headers that authenticate nobody. */
const badAuthorization = fc.oneof(
  fc.constant('Bearer'),
  fc.constant('Bearer '),
  fc.constant('Basic dXNlcjpwYXNz'),
  fc.string({ maxLength: 60 }).map((value) => `Bearer ${value.replace(/[^\x21-\x7e]/g, '') || 'x'}x`),
  fc.integer({ min: 513, max: 6_000 }).map((length) => `Bearer ${'k'.repeat(length)}`),
  fc.constantFrom(...INJECTIONS).map((value) => `Bearer tnc_${value.replace(/[^\x21-\x7e]/g, '')}`),
);

/** How the query DTOs read a number: plain decimal digits only (src/http/strict-integer.transform.ts). */
function isIntegerWithin(text: string, min: number, max: number): boolean {
  return /^-?\d{1,16}$/.test(text) && Number(text) >= min && Number(text) <= max;
}

interface HostileRequest {
  readonly method: 'get' | 'post' | 'patch' | 'delete';
  readonly path: string;
  /** A JSON value, or raw text sent as application/json. */
  readonly body?: { readonly json: unknown } | { readonly raw: string };
  readonly headers: Record<string, string>;
}

describe('hostile input: random and malicious requests are refused with 4xx and change nothing', () => {
  let app: TestApp;
  const kit = accessFixture(() => app);
  let tenantId: string;
  let w1: string;
  let adminAuth: Record<string, string>;

  beforeAll(async () => {
    app = await startTestApp();
    const tenant = await kit.createTenant('Fuzzed');
    tenantId = tenant.tenantId;
    const w = await kit.createWorkspace(tenantId, 'W');
    w1 = (await kit.createWorkspace(tenantId, 'W1', w.workspaceId)).workspaceId;
    adminAuth = (await kit.issueKey(tenantId, 'admin')).auth;
    await kit.readModelAt((await kit.issueKey(tenantId, 'reader')).position);
    await kit.settle();
  });
  afterAll(async () => {
    await app.close();
  });

  const seg = (value: string) => encodeURIComponent(value);
  const validName = () => `Valid ${randomUUID().slice(0, 8)}`;

  /** Each alternative is invalid in at least one place, so a 2xx would itself be a finding. */
  const hostileRequest = (): fc.Arbitrary<HostileRequest> => {
    const auth = fc.oneof(
      { weight: 4, arbitrary: fc.constant(AUTH) },
      { weight: 2, arbitrary: fc.constant(adminAuth) },
      { weight: 1, arbitrary: badAuthorization.map((value) => ({ Authorization: value })) },
    );
    const workspaces = `/v1/tenants/${tenantId}/workspaces`;
    const request = fc.oneof(
      // Writes with a bad body.
      fc.record({
        method: fc.constant('post' as const),
        path: fc.constant(workspaces),
        body: fc.oneof(
          invalidName.map((name) => ({ json: { name } })),
          malformedUuid.map((parentWorkspaceId) => ({ json: { name: validName(), parentWorkspaceId } })),
          wrongType.map((parentWorkspaceId) => ({ json: { name: validName(), parentWorkspaceId } })),
          fc
            .tuple(anyString, wrongType)
            .map(([key, value]) => ({ json: { name: validName(), [`x${key}`]: value } })),
          fc.oneof(wrongType, anyString).map((json) => ({ json: Array.isArray(json) ? json : [json] })),
          deepJson.map((raw) => ({ raw: `{"name": ${raw}}` })),
          // Left unterminated; a random tail that happens to close it (`x"}`) would be a valid body.
          anyString
            .map((raw) => `{"name": "${raw}`)
            .filter(isNotJson)
            .map((raw) => ({ raw })),
        ),
      }),
      fc.record({
        method: fc.constant('post' as const),
        path: fc.constant('/v1/tenants'),
        body: fc.oneof(
          invalidName.map((name) => ({ json: { name } })),
          malformedUuid.map((id) => ({ json: { name: validName(), tenantId: id } })),
          deepJson.map((raw) => ({ raw })),
        ),
      }),
      fc.record({
        method: fc.constant('patch' as const),
        path: fc.oneof(
          fc.constant(`${workspaces}/${w1}`),
          malformedUuid.map((id) => `${workspaces}/${seg(id)}`),
        ),
        body: invalidName.map((name) => ({ json: { name } })),
      }),
      fc.record({
        method: fc.constant('delete' as const),
        path: fc.oneof(
          malformedUuid.map((id) => `${workspaces}/${seg(id)}`),
          anyString
            .filter((value) => value !== 'true' && value !== 'false')
            .map((cascade) => `${workspaces}/${w1}?cascade=${seg(cascade)}`),
          malformedUuid.map((id) => `/v1/tenants/${seg(id)}`),
        ),
      }),
      fc.record({
        method: fc.constant('post' as const),
        path: fc.constant(`/v1/tenants/${tenantId}/api-keys`),
        body: fc.oneof(
          anyString
            .filter((role) => role !== 'admin' && role !== 'reader')
            .map((role) => ({ json: { role } })),
          wrongType.map((role) => ({ json: { role } })),
          malformedUuid.map((workspaceId) => ({ json: { role: 'reader', workspaceId } })),
          // null is how a client leaves the optional key name out; NaN and the infinities are sent as
          // null too (JSON has no such number).
          invalidName
            .filter((name) => JSON.stringify(name) !== 'null')
            .map((name) => ({ json: { role: 'reader', name } })),
          fc.uuid().map((workspaceId) => ({ json: { role: 'reader', workspaceId } })),
          fc.constant({ json: { role: 'admin', secret: 'tnc_chosen-by-the-client' } }),
        ),
      }),
      fc.record({
        method: fc.constant('delete' as const),
        path: fc.oneof(
          malformedUuid.map((id) => `/v1/tenants/${tenantId}/api-keys/${seg(id)}`),
          fc.uuid().map((id) => `/v1/tenants/${tenantId}/api-keys/${id}`),
        ),
      }),
      // Reads with bad parameters.
      fc.record({
        method: fc.constant('get' as const),
        path: fc.oneof(
          anyString
            .filter((limit) => !isIntegerWithin(limit, 1, 500))
            .map((limit) => `${workspaces}?limit=${seg(limit)}`),
          fc
            .oneof(fc.integer({ min: 501 }), fc.integer({ max: 0 }), fc.double({ noInteger: true }))
            .map((limit) => `/v1/tenants?limit=${seg(String(limit))}`),
          anyString.map((cursor) => `${workspaces}?cursor=${seg(cursor || '!')}`),
          fc
            .base64String({ minLength: 4, maxLength: 80 })
            .map((cursor) => `${workspaces}?cursor=${seg(cursor.replace(/[+/=]/g, '_'))}`),
          malformedUuid.map((id) => `${workspaces}?parentWorkspaceId=${seg(id)}`),
          fc.tuple(anyString, anyString).map(([key, value]) => `${workspaces}?x${seg(key)}=${seg(value)}`),
          malformedUuid.map((id) => `/v1/tenants/${seg(id)}`),
          malformedUuid.map((id) => `${workspaces}/${seg(id)}`),
          fc.uuid().map((id) => `${workspaces}/${id}`),
          anyString
            .filter((after) => !isIntegerWithin(after, -1, Number.MAX_SAFE_INTEGER))
            .map((after) => `/v1/tenants/${tenantId}/events?after=${seg(after)}`),
          anyString.map((after) => `/v1/events?after=${seg(after || 'x')}`),
          anyString.map((types) => `/v1/events?types=${seg(types || ',')}`),
          malformedUuid.map((id) => `/v1/events?tenantId=${seg(id)}`),
        ),
      }),
    );
    return fc
      .tuple(request, auth, noiseHeaders)
      .map(([req, authorization, noise]) => ({ ...req, headers: { ...noise, ...authorization } }));
  };

  /** The read models as a checksum: any change to any row changes it. */
  const readModelChecksum = async (): Promise<string> => {
    const { rows } = await app.database.pool.query<{ checksum: string }>(
      `SELECT md5(
         coalesce((SELECT string_agg(t::text, '|' ORDER BY t.tenant_id) FROM read_model.tenants t), '') ||
         coalesce((SELECT string_agg(w::text, '|' ORDER BY w.tenant_id, w.workspace_id) FROM read_model.workspaces w), '') ||
         coalesce((SELECT string_agg(a::text, '|' ORDER BY a.position) FROM read_model.audit_log a), '')
       ) AS checksum`,
    );
    return rows[0]?.checksum ?? '';
  };

  it('answers 4xx to every one of them, never 5xx, and the log and the read models stay as they were', async () => {
    const logBefore = await kit.logLength();
    const readModelsBefore = await readModelChecksum();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(hostileRequest(), async (hostile) => {
        let pending = kit.http()[hostile.method](hostile.path).set(hostile.headers);
        if (hostile.body && 'json' in hostile.body) pending = pending.send(hostile.body.json as object);
        if (hostile.body && 'raw' in hostile.body)
          pending = pending.set('Content-Type', 'application/json').send(hostile.body.raw);
        const response = await pending;
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const verdict =
          response.status >= 400 && response.status < 500
            ? '4xx'
            : `${response.status} for ${hostile.method} ${hostile.path}: ${response.text.slice(0, 300)}`;
        expect(verdict).toBe('4xx');
        expect(await kit.logLength()).toBe(logBefore);
      }),
      { numRuns: 5_000 },
    );
    // The projections had their chance to show any change a refused request might have caused.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await readModelChecksum()).toBe(readModelsBefore);
    // Not a vacuous run: the refusals came from validation, authentication and authorization alike.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([400, 401, 404]));
  });
});

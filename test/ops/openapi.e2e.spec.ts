import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Express } from 'express';
import request from 'supertest';
import { RouteTable } from '../../src/http/route-table.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';

interface Operation {
  readonly security?: Record<string, string[]>[];
  readonly requestBody?: { content?: Record<string, { schema?: { $ref?: string; properties?: object } }> };
  readonly parameters?: {
    in: string;
    name: string;
    required?: boolean;
    description?: string;
    schema?: { enum?: string[] };
  }[];
  readonly responses: Record<
    string,
    { content?: Record<string, unknown>; headers?: Record<string, unknown> }
  >;
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** The documentation's own routes, served by the OpenAPI module rather than by a controller. */
const DOCUMENTATION_ROUTES = /^\/(openapi\.json|docs)/;

describe('the OpenAPI document', () => {
  let app: TestApp;
  let document: Document;

  beforeAll(async () => {
    app = await startTestApp({ runConsumers: false });
    const response = await request(app.server).get('/openapi.json');
    expect(response.status).toBe(200);
    document = response.body as Document;
  });
  afterAll(async () => {
    await app.close();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every route the service really serves, with its method', () => {
    const express: Express = app.app.getHttpAdapter().getInstance();
    const routes = RouteTable.of(express)
      .routes()
      .filter((route) => !DOCUMENTATION_ROUTES.test(route.path));
    expect(routes.length).toBeGreaterThan(10);
    const missing = routes.flatMap((route) => {
      const path = route.path.replace(/:(\w+)/g, '{$1}');
      return route.methods
        .filter((method) => method !== 'HEAD')
        .filter((method) => document.paths[path]?.[method.toLowerCase()] === undefined)
        .map((method) => `${method} ${route.path}`);
    });
    expect(missing).toEqual([]);
  });

  it('gives every /v1 operation the bearer scheme and its problem+json answers', () => {
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        expect([`${method} ${path}`, operation.security]).toEqual([`${method} ${path}`, [{ bearer: [] }]]);
        const problems = Object.values(operation.responses).filter(
          (response) => response.content?.['application/problem+json'] !== undefined,
        );
        expect([`${method} ${path}`, problems.length > 0]).toEqual([`${method} ${path}`, true]);
        expect(operation.responses['401']).toBeDefined();
      }
    }
  });

  it('documents the lifecycle refusals: TENANT_SUSPENDED on every change a suspension refuses and on no other, QUOTA_EXCEEDED on every create a quota limits', () => {
    const codesOf = (operation: Operation): string[] => {
      const schema = operation.responses['409']?.content?.['application/problem+json'] as
        { schema?: { properties?: { code?: { enum?: string[] } } } } | undefined;
      return schema?.schema?.properties?.code?.enum ?? [];
    };
    // What a suspended tenant still accepts (docs/lifecycle.md).
    const stillAccepted = new Set([
      'delete /v1/tenants/{tenantId}',
      'post /v1/tenants/{tenantId}/suspend',
      'post /v1/tenants/{tenantId}/reactivate',
      'post /v1/tenants/{tenantId}/members/{userId}/erase',
      // A suspension is often the answer to a leaked key: the key can still be taken away.
      'delete /v1/tenants/{tenantId}/api-keys/{apiKeyId}',
      // Checks are answers, not changes: they say tenant_suspended in their body.
      'post /v1/tenants/{tenantId}/permissions/check',
    ]);
    const creates = new Set([
      'post /v1/tenants/{tenantId}/workspaces',
      'post /v1/tenants/{tenantId}/workspaces/{workspaceId}/move',
      'post /v1/tenants/{tenantId}/api-keys',
      'put /v1/tenants/{tenantId}/members/{userId}',
      'post /v1/tenants/{tenantId}/groups',
    ]);
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1/tenants/{tenantId}')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        const route = `${method} ${path}`;
        if (method === 'get' || method === 'head') continue;
        const codes = codesOf(operation);
        if (!stillAccepted.has(route) && !codes.includes('TENANT_SUSPENDED'))
          missing.push(`${route}: TENANT_SUSPENDED`);
        // Nor does it list the refusal on a route that a suspension never refuses.
        if (stillAccepted.has(route) && codes.includes('TENANT_SUSPENDED'))
          missing.push(`${route}: TENANT_SUSPENDED listed, never answered`);
        if (creates.has(route) && !codes.includes('QUOTA_EXCEEDED')) missing.push(`${route}: QUOTA_EXCEEDED`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('documents WORKSPACE_DELETING on every write that names a workspace a cascade may be deleting', () => {
    // Each of these refuses a workspace inside a cascade under way (the deciders' requireWorkspaceOpenToChange).
    const namingAWorkspace = [
      ['post', '/v1/tenants/{tenantId}/workspaces'],
      ['patch', '/v1/tenants/{tenantId}/workspaces/{workspaceId}'],
      ['delete', '/v1/tenants/{tenantId}/workspaces/{workspaceId}'],
      ['post', '/v1/tenants/{tenantId}/workspaces/{workspaceId}/move'],
      ['post', '/v1/tenants/{tenantId}/api-keys'],
      ['post', '/v1/tenants/{tenantId}/grants'],
    ] as const;
    const missing = namingAWorkspace.filter(([method, path]) => {
      const schema = document.paths[path]?.[method]?.responses['409']?.content?.[
        'application/problem+json'
      ] as { schema?: { properties?: { code?: { enum?: string[] } } } } | undefined;
      return !(schema?.schema?.properties?.code?.enum ?? []).includes('WORKSPACE_DELETING');
    });
    expect(missing.map(([method, path]) => `${method} ${path}`)).toEqual([]);
  });

  it('lists an id-taken refusal exactly on the creates whose body lets the client choose that id', () => {
    // The collection a POST creates in, the id its body may choose, and the refusal of a taken one.
    const creates = [
      ['/workspaces', 'workspaceId', 'WORKSPACE_ID_TAKEN'],
      ['/api-keys', 'apiKeyId', 'API_KEY_ID_TAKEN'],
      ['/groups', 'groupId', 'GROUP_ID_TAKEN'],
      ['/grants', 'grantId', 'GRANT_ID_TAKEN'],
    ] as const;
    type JsonSchema = { $ref?: string; properties?: Record<string, unknown> };
    const schemas = (document as unknown as { components: { schemas: Record<string, JsonSchema> } })
      .components.schemas;
    const mismatched: string[] = [];
    for (const [collection, field, code] of creates) {
      const path = `/v1/tenants/{tenantId}${collection}`;
      const operation = document.paths[path]?.post;
      const body = operation?.requestBody?.content?.['application/json']?.schema;
      const resolved = body?.$ref !== undefined ? schemas[body.$ref.split('/').pop() ?? ''] : body;
      const chosen = Object.keys(resolved?.properties ?? {}).includes(field);
      const problem = operation?.responses['409']?.content?.['application/problem+json'] as
        { schema?: { properties?: { code?: { enum?: string[] } } } } | undefined;
      const listed = (problem?.schema?.properties?.code?.enum ?? []).includes(code);
      if (listed !== chosen)
        mismatched.push(
          `post ${path}: ${code} ${listed ? 'listed' : 'missing'}, ${field} ${chosen ? 'taken' : 'not taken'}`,
        );
    }
    expect(mismatched).toEqual([]);
  });

  it('documents Min-Position on every tenant read, as each checks it, and which of them take it without a wait', async () => {
    const sample: Record<string, string> = { userId: 'user-1', principalType: 'user', principalId: 'user-1' };
    const mismatched: string[] = [];
    let waiting = 0;
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1/tenants') || !('get' in operations)) continue;
      const operation = operations.get;
      const parameters = operation.parameters ?? [];
      const header = parameters.find((p) => p.in === 'header' && p.name === 'Min-Position');
      const says = header !== undefined;
      // Those answered from the log as it is: any position a write returned is in their answer.
      const waits = header !== undefined && header.description?.includes('without a wait') !== true;
      if (waits) waiting++;
      // Required query parameters get a valid value, so that only the header can be at fault.
      const query = parameters
        .filter((p) => p.in === 'query' && p.required === true)
        .map((p) => `${p.name}=${encodeURIComponent(p.schema?.enum?.[0] ?? 'x')}`);
      const url =
        path.replace(/\{(\w+)\}/g, (_, name: string) => sample[name] ?? randomUUID()) +
        (query.length > 0 ? `?${query.join('&')}` : '');
      const answer = await request(app.server).get(url).set(AUTH).set('Min-Position', 'not-a-position');
      const checks =
        answer.status === 400 &&
        (answer.body as { detail?: string }).detail?.includes('Min-Position') === true;
      if (!checks || !says)
        mismatched.push(`GET ${path}: documented ${says}, checked ${checks} (${answer.status})`);
      // A position not written yet: a read that waits for its read models or catches up refuses
      // it at once (400); the others take it, as they take any position.
      const future = await request(app.server)
        .get(url)
        .set(AUTH)
        .set('Min-Position', 'ffffffffffffffff-0000000000000000');
      const refusesFuture =
        future.status === 400 &&
        (future.body as { detail?: string }).detail?.includes('Min-Position') === true;
      if (refusesFuture !== waits)
        mismatched.push(
          `GET ${path}: documented to wait ${waits}, waits ${refusesFuture} (${future.status})`,
        );
    }
    expect(mismatched).toEqual([]);
    expect(waiting).toBeGreaterThan(10);
  });

  it('documents If-Match and its 412 on the reads of one resource, which honour it (test/ops/http-semantics)', () => {
    for (const path of ['/v1/tenants/{tenantId}', '/v1/tenants/{tenantId}/workspaces/{workspaceId}']) {
      const operation = document.paths[path]?.get;
      expect({
        path,
        ifMatch: (operation?.parameters ?? []).some((p) => p.in === 'header' && p.name === 'If-Match'),
        responses: Object.keys(operation?.responses ?? {}),
      }).toEqual({ path, ifMatch: true, responses: expect.arrayContaining(['304', '412']) });
    }
  });

  it('lists on every /v1 operation the refusals it really answers for a body or a query parameter it does not take', async () => {
    const sample: Record<string, string> = { userId: 'user-1', principalType: 'user', principalId: 'user-1' };
    const codesOf = (operation: Operation, status: number): string[] => {
      const content = operation.responses[String(status)]?.content?.['application/problem+json'] as
        { schema?: { properties?: { code?: { enum?: string[] } } } } | undefined;
      return content?.schema?.properties?.code?.enum ?? [];
    };
    const undocumented: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => sample[name] ?? randomUUID());
        const send = (target: string) =>
          request(app.server)[method as 'get' | 'post' | 'put' | 'patch' | 'delete'](target).set(AUTH);
        const answers = await Promise.all([
          send(url).set('Content-Type', 'text/plain').send('hello'),
          send(url).set('Content-Type', 'application/json').send('{"unterminated'),
          send(url)
            .set('Content-Type', 'application/json')
            .send(JSON.stringify({ x: 'y'.repeat(600_000) })),
          send(`${url}?unknownParameter=1`),
        ]);
        for (const answer of answers) {
          const code = (answer.body as { code?: string }).code ?? '';
          if (!codesOf(operation, answer.status).includes(code))
            undocumented.push(`${method} ${path}: ${answer.status} ${code}`);
        }
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('documents the headers its refusals carry: WWW-Authenticate on a 401, Retry-After on a 503 and a 429', async () => {
    const headersOf = (operation: Operation | undefined, status: number) =>
      Object.keys(operation?.responses[String(status)]?.headers ?? {}).map((name) => name.toLowerCase());
    const missing: string[] = [];
    // What the service really sends: a request without a key, a read the read models cannot reach.
    const unauthorized = await request(app.server).get('/v1/tenants');
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['www-authenticate']).toBeDefined();
    // No consumer runs here: the read models never reach a write's position.
    const written = await request(app.server)
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: `Lagging ${randomUUID()}` });
    const lagging = await request(app.server)
      .get('/v1/tenants')
      .set(AUTH)
      .set('Min-Position', (written.body as { position: string }).position);
    expect((lagging.body as { code?: string }).code).toBe('PROJECTION_LAGGING');
    expect(lagging.headers['retry-after']).toBeDefined();
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        const expected: [number, string][] = [
          [401, 'www-authenticate'],
          [429, 'retry-after'],
          [503, 'retry-after'],
        ];
        for (const [status, header] of expected) {
          if (
            operation.responses[String(status)] !== undefined &&
            !headersOf(operation, status).includes(header)
          )
            missing.push(`${method} ${path}: ${status} ${header}`);
        }
      }
    }
    expect(missing).toEqual([]);
  }, 30_000);

  it('documents the ETag and Location its writes answer with, repeated creates and 204s included, and the ETag of a 304', async () => {
    const http = () => request(app.server);
    const tenantId = randomUUID();
    const groupId = randomUUID();
    const base = `/v1/tenants/${tenantId}`;
    const answers: [string, string, request.Response][] = [];
    const call = async (method: 'post' | 'put' | 'delete', template: string, url: string, body?: object) => {
      const answer = await http()[method](url).set(AUTH).send(body);
      expect([url, answer.status < 300]).toEqual([url, true]);
      answers.push([method, template, answer]);
      return answer.body as Record<string, string>;
    };
    const tenant = { tenantId, name: `Headers ${tenantId}`, adminUserId: 'alice' };
    for (let time = 0; time < 2; time++) {
      await call('post', '/v1/tenants', '/v1/tenants', tenant);
      await call('put', '/v1/tenants/{tenantId}/members/{userId}', `${base}/members/bob`, {
        displayName: 'B',
      });
      await call('post', '/v1/tenants/{tenantId}/groups', `${base}/groups`, { groupId, name: 'G' });
      await call(
        'put',
        '/v1/tenants/{tenantId}/groups/{groupId}/members/{userId}',
        `${base}/groups/${groupId}/members/bob`,
      );
    }
    const grant = { principal: { type: 'user', id: 'bob' }, role: 'viewer' };
    const { grantId } = await call('post', '/v1/tenants/{tenantId}/grants', `${base}/grants`, grant);
    await call('post', '/v1/tenants/{tenantId}/grants', `${base}/grants`, grant);
    const { apiKeyId } = await call('post', '/v1/tenants/{tenantId}/api-keys', `${base}/api-keys`, {
      role: 'reader',
    });
    await call('delete', '/v1/tenants/{tenantId}/grants/{grantId}', `${base}/grants/${grantId}`);
    await call(
      'delete',
      '/v1/tenants/{tenantId}/groups/{groupId}/members/{userId}',
      `${base}/groups/${groupId}/members/bob`,
    );
    await call('delete', '/v1/tenants/{tenantId}/groups/{groupId}', `${base}/groups/${groupId}`);
    await call('delete', '/v1/tenants/{tenantId}/members/{userId}', `${base}/members/bob`);
    await call('delete', '/v1/tenants/{tenantId}/api-keys/{apiKeyId}', `${base}/api-keys/${apiKeyId}`);

    const documented = (operation: Operation | undefined, status: number) =>
      Object.keys(operation?.responses[String(status)]?.headers ?? {}).map((name) => name.toLowerCase());
    const undocumented = answers.flatMap(([method, template, answer]) =>
      ['etag', 'location']
        .filter((header) => answer.headers[header] !== undefined)
        .filter((header) => !documented(document.paths[template]?.[method], answer.status).includes(header))
        .map((header) => `${method} ${template}: ${answer.status} ${header}`),
    );
    // A 304 carries the ETag it confirms (sendRepresentation sets it before answering).
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (operation.responses['304'] !== undefined && !documented(operation, 304).includes('etag'))
          undocumented.push(`${method} ${path}: 304 etag`);
      }
    }
    expect([...new Set(undocumented)]).toEqual([]);
  });

  it("documents the operator's routes as they answer: readiness's 200 and 503 with their body, liveness, metrics as text", async () => {
    const mismatched: string[] = [];
    for (const path of ['/health/live', '/health/ready', '/metrics']) {
      const answer = await request(app.server).get(path);
      const mediaType = String(answer.headers['content-type']).split(';')[0] ?? '';
      const content = document.paths[path]?.get?.responses[String(answer.status)]?.content;
      if (content?.[mediaType] === undefined)
        mismatched.push(`GET ${path}: ${answer.status} ${mediaType} is not documented`);
    }
    // Readiness answers 503 when a check is down (test/faults/readiness.e2e.spec.ts), with the same body.
    const ready = document.paths['/health/ready']?.get?.responses ?? {};
    for (const status of ['200', '503']) {
      const schema = ready[status]?.content?.['application/json'] as
        { schema?: { required?: string[] } } | undefined;
      if (!['status', 'info', 'error', 'details'].every((field) => schema?.schema?.required?.includes(field)))
        mismatched.push(`GET /health/ready: ${status} does not document the readiness body`);
    }
    expect(mismatched).toEqual([]);
  });

  it('serves the interactive documentation at /docs', async () => {
    const page = await request(app.server).get('/docs').redirects(1);
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
    const init = await request(app.server).get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('/v1/tenants');
  });
});

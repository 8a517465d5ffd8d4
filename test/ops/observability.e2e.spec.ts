import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createLogger } from '../../src/observability/logger.js';
import { capture } from '../support/capture.js';
import { AUTH, OPERATOR_KEY, startTestApp, startTestAppOn, type TestApp } from '../support/test-app.js';
import { scrapeValues, series } from '../support/metrics-scrape.js';
import { waitFor } from '../support/wait-for.js';

const requests = (method: string, route: string, status: number) =>
  series('tenancy_http_request_duration_seconds_count', { method, route, status: String(status) });

interface LogLine {
  readonly level: string;
  readonly time: string;
  readonly msg?: string;
  readonly route?: string;
  readonly status?: number;
  readonly correlationId?: string;
  readonly [field: string]: unknown;
}

describe('operating the service: request logs, correlation and metrics', () => {
  const logs = capture();
  let app: TestApp;
  const http = () => request(app.server);
  const echoedIds: string[] = [];
  const secrets: string[] = [OPERATOR_KEY];
  const remember = (response: request.Response) => {
    echoedIds.push(String(response.headers['x-correlation-id']));
    return response;
  };
  const logLines = (): LogLine[] =>
    logs
      .text()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as LogLine);

  beforeAll(async () => {
    app = await startTestApp({ runConsumers: false }, createLogger('debug', logs));
  });
  afterAll(async () => {
    await app.close();
  });

  it('counts a scripted sequence exactly, by route pattern and the status really sent, and the commands by outcome', async () => {
    const name = `Metrics ${randomUUID()}`;
    const created = remember(await http().post('/v1/tenants').set(AUTH).send({ name }));
    expect(created.status).toBe(201);
    const tenantId = (created.body as { tenantId: string }).tenantId;
    expect(remember(await http().post('/v1/tenants').set(AUTH).send({ name })).status).toBe(409);
    const malformed = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .set('Content-Type', 'application/json')
      .send('{"name": ');
    expect(remember(malformed).status).toBe(400);
    expect(remember(await http().post('/v1/tenants').send({ name: 'no key' })).status).toBe(401);
    const issued = remember(
      await http().post(`/v1/tenants/${tenantId}/api-keys`).set(AUTH).send({ role: 'reader' }),
    );
    expect(issued.status).toBe(201);
    const secret = (issued.body as { secret: string }).secret;
    secrets.push(secret);
    const forbidden = await http()
      .post('/v1/tenants')
      .set('Authorization', `Bearer ${secret}`)
      .send({ name: 'not mine to create' });
    expect(remember(forbidden).status).toBe(403);
    expect(remember(await http().get(`/v1/tenants/${randomUUID()}`).set(AUTH)).status).toBe(404);

    const scrape = remember(await http().get('/metrics'));
    const values = scrapeValues(scrape.text);
    for (const status of [201, 409, 400, 401, 403]) {
      expect([status, values.get(requests('POST', '/v1/tenants', status))]).toEqual([status, 1]);
    }
    expect(values.get(requests('POST', '/v1/tenants/:tenantId/api-keys', 201))).toBe(1);
    expect(values.get(requests('GET', '/v1/tenants/:tenantId', 404))).toBe(1);
    const postsCounted = [...values]
      .filter(
        ([key]) =>
          key.startsWith('tenancy_http_request_duration_seconds_count{') && key.includes('method="POST"'),
      )
      .reduce((sum, [, value]) => sum + value, 0);
    expect(postsCounted).toBe(6);
    expect(
      values.get(series('tenancy_commands_total', { command: 'CreateTenant', outcome: 'applied' })),
    ).toBe(1);
    expect(
      values.get(series('tenancy_commands_total', { command: 'CreateTenant', outcome: 'rejected' })),
    ).toBe(1);
    expect(values.get(series('tenancy_commands_total', { command: 'IssueApiKey', outcome: 'applied' }))).toBe(
      1,
    );
  });

  it('accepts X-Correlation-Id and traceparent, echoes them, and carries the id into the event metadata', async () => {
    const correlationId = `order-${randomUUID()}`;
    const created = remember(
      await http()
        .post('/v1/tenants')
        .set(AUTH)
        .set('X-Correlation-Id', correlationId)
        .send({ name: `Corr ${randomUUID()}` }),
    );
    expect(created.headers['x-correlation-id']).toBe(correlationId);
    const tenantId = (created.body as { tenantId: string }).tenantId;
    const history = remember(await http().get(`/v1/tenants/${tenantId}/events`).set(AUTH));
    const [event] = (history.body as { items: { metadata: { correlationId: string } }[] }).items;
    expect(event?.metadata.correlationId).toBe(correlationId);

    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;
    const traced = remember(
      await http()
        .post('/v1/tenants')
        .set(AUTH)
        .set('traceparent', traceparent)
        .send({ name: `Trace ${randomUUID()}` }),
    );
    expect(traced.headers['x-correlation-id']).toBe(traceId);
    expect(traced.headers.traceparent).toBe(traceparent);
    const generated = remember(await http().get('/health/live'));
    expect(generated.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    // An unsafe id (a header injection attempt) is replaced, never echoed.
    const unsafe = remember(await http().get('/health/live').set('X-Correlation-Id', 'a b\tc'));
    expect(unsafe.headers['x-correlation-id']).not.toBe('a b\tc');
  });

  it('logs and counts a request the client gave up on alike, with no status it was never sent', async () => {
    const correlationId = `gone-${randomUUID()}`;
    // A read that waits for a position the read models never reach (no consumer runs here).
    const written = remember(
      await http()
        .post('/v1/tenants')
        .set(AUTH)
        .send({ name: `Gone ${randomUUID()}` }),
    );
    await expect(
      http()
        .get('/v1/tenants')
        .set(AUTH)
        .set('X-Correlation-Id', correlationId)
        .set('Min-Position', (written.body as { position: string }).position)
        .timeout(300),
    ).rejects.toThrow(/Timeout/);
    echoedIds.push(correlationId);
    let line: LogLine | undefined;
    await waitFor(async () => {
      line = logLines().find((candidate) => candidate.correlationId === correlationId);
      return line !== undefined;
    }, 10_000);
    expect(line).toMatchObject({ route: '/v1/tenants', aborted: true });
    const values = scrapeValues(remember(await http().get('/metrics')).text);
    const counted = [...values]
      .filter(
        ([key]) =>
          key.startsWith('tenancy_http_request_duration_seconds_count{') &&
          key.includes('method="GET",route="/v1/tenants"'),
      )
      .filter(([, value]) => value > 0)
      .map(([key]) => /status="(\d+)"/.exec(key)?.[1]);
    // Whatever the label for "nothing was sent", the log line says the same, and neither says 200.
    expect(counted).toEqual([String(line?.status)]);
    expect(line?.status).not.toBe(200);
  });

  it('logs JSON lines with level names and ISO times, one per request carrying the id the response echoed, and no secret', async () => {
    await waitFor(
      async () => logLines().filter((line) => line.route !== undefined).length >= echoedIds.length,
      5_000,
    );
    const lines = logLines();
    for (const line of lines) {
      expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(line.level);
      expect(new Date(line.time).toISOString()).toBe(line.time);
    }
    const requestLines = lines.filter((line) => line.route !== undefined);
    expect(requestLines.map((line) => line.correlationId).sort()).toEqual([...echoedIds].sort());
    // Each field once: a JSON object with a repeated key is read differently by different parsers.
    const rawRequestLines = logs
      .text()
      .split('\n')
      .filter((line) => line.includes('"route":'));
    expect(rawRequestLines).toHaveLength(requestLines.length);
    for (const line of rawRequestLines) expect(line.match(/"correlationId":/g)).toHaveLength(1);
    const refused = requestLines.find((line) => line.status === 403);
    expect(refused).toMatchObject({ method: 'POST', route: '/v1/tenants', status: 403 });
    expect(typeof refused?.durationMs).toBe('number');
    const tenantLine = requestLines.find((line) => line.route === '/v1/tenants/:tenantId/api-keys');
    expect(tenantLine?.tenantId).toMatch(/^[0-9a-f-]{36}$/);

    const text = logs.text();
    for (const secret of secrets) expect(text.includes(secret)).toBe(false);
    expect(text).not.toMatch(/Bearer /);
  });

  it('measures each consumer behind the head while none runs, growing, and 0 once one catches up', async () => {
    const consumers = ['tenancy-read-model', 'audit-log', 'root-bootstrap', 'cascade-deletion'];
    const lagOf = async () => {
      const values = scrapeValues((await http().get('/metrics')).text);
      return consumers.map((consumer) => ({
        consumer,
        events: values.get(series('tenancy_consumer_lag_events', { consumer })),
        seconds: values.get(series('tenancy_consumer_lag_seconds', { consumer })),
      }));
    };
    // Tenants were created, none deleted: the cascade has nothing to do, every other consumer lags.
    const behind = (lags: Awaited<ReturnType<typeof lagOf>>) =>
      lags.filter((lag) => lag.consumer !== 'cascade-deletion');
    const stalled = await lagOf();
    expect(stalled.find((lag) => lag.consumer === 'cascade-deletion')).toMatchObject({
      events: 0,
      seconds: 0,
    });
    for (const lag of behind(stalled)) {
      expect(lag.events).toBeGreaterThan(0);
      expect(lag.seconds).toBeGreaterThan(0);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const later = behind(await lagOf());
    behind(stalled).forEach((lag, index) => {
      expect(later[index]?.events).toBeGreaterThanOrEqual(lag.events ?? 0);
      expect(later[index]?.seconds).toBeGreaterThan((lag.seconds ?? 0) + 1);
    });

    const runner = await startTestAppOn(app.database);
    try {
      await waitFor(
        async () => (await lagOf()).every((lag) => lag.events === 0 && lag.seconds === 0),
        30_000,
        100,
      );
    } finally {
      await runner.close();
    }
  });
  it('counts every command refused, including those its handler refuses before deciding: a stale or weak If-Match, a suspended tenant', async () => {
    const commands = async (command: string, outcome: string) =>
      scrapeValues((await http().get('/metrics')).text).get(
        series('tenancy_commands_total', { command, outcome }),
      ) ?? 0;
    const created = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: `Counted ${randomUUID()}` });
    expect(created.status).toBe(201);
    const tenant = `/v1/tenants/${(created.body as { tenantId: string }).tenantId}`;
    const before = {
      renameConflicts: await commands('RenameTenant', 'conflict'),
      renameRejections: await commands('RenameTenant', 'rejected'),
      memberConflicts: await commands('AddMember', 'conflict'),
    };
    const stale = '"99"';
    const rename = await http()
      .patch(tenant)
      .set(AUTH)
      .set('If-Match', stale)
      .send({ name: `R ${randomUUID()}` });
    expect(rename.status).toBe(412);
    const weak = await http()
      .patch(tenant)
      .set(AUTH)
      .set('If-Match', 'W/"1"')
      .send({ name: `W ${randomUUID()}` });
    expect(weak.status).toBe(412);
    const member = await http()
      .put(`${tenant}/members/ann`)
      .set(AUTH)
      .set('If-Match', stale)
      .send({ displayName: 'Ann' });
    expect(member.status).toBe(412);
    expect((await http().post(`${tenant}/suspend`).set(AUTH).send({ reason: 'audit' })).status).toBe(200);
    const suspended = await http()
      .patch(tenant)
      .set(AUTH)
      .send({ name: `S ${randomUUID()}` });
    expect(suspended.status).toBe(409);

    expect({
      renameConflicts: await commands('RenameTenant', 'conflict'),
      renameRejections: await commands('RenameTenant', 'rejected'),
      memberConflicts: await commands('AddMember', 'conflict'),
    }).toEqual({
      renameConflicts: before.renameConflicts + 2,
      renameRejections: before.renameRejections + 1,
      memberConflicts: before.memberConflicts + 1,
    });
  });
});

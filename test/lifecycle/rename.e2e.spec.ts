import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { TenantCommandExecutor } from '../../src/application/commands/tenant-command.executor.js';
import { TenantNameRegistry } from '../../src/application/commands/tenant-name.registry.js';
import { parseResourceName } from '../../src/tenancy/resource-name.js';
import { ABANDONED_RESERVATION_MS } from '../../src/tenancy/tenant-name-reservation.js';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import { resourceNameKey } from '../../src/tenancy/resource-name.js';
import { tenantNameStreamName } from '../../src/tenancy/tenant-name-reservation.js';
import { tenantStreamName } from '../../src/tenancy/tenant-stream.js';
import { AUTH, startTestApp, startTestAppOn, type TestApp } from '../support/test-app.js';
import { accessFixture } from '../access/access-fixture.js';

/** Renaming tenants over HTTP on two service instances: global uniqueness moves with the name. */
describe('renaming a tenant', () => {
  let first: TestApp;
  let second: TestApp;
  const kit = accessFixture(() => first);
  const on = (app: TestApp) => request(app.server);
  const http = () => on(first);

  beforeAll(async () => {
    first = await startTestApp();
    second = await startTestAppOn(first.database, { runConsumers: false });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  const streamOf = async (stream: string): Promise<RecordedEvent[]> => {
    const events: RecordedEvent[] = [];
    for await (const event of first.runtime.eventStore.readStream(stream)) events.push(event);
    return events;
  };

  it('renames with PATCH (200), shows the new name, and a repeat or a change of case only changes the name', async () => {
    const tenant = await kit.createTenant('Plain');
    const T = `/v1/tenants/${tenant.tenantId}`;
    const renamed = await http()
      .patch(T)
      .set(AUTH)
      .send({ name: `  Fresh ${tenant.tenantId} ` });
    expect(renamed.status).toBe(200);
    const position = (renamed.body as { position: string }).position;
    const shown = await http().get(T).set(AUTH).set('Min-Position', position);
    expect(shown.body).toMatchObject({ name: `Fresh ${tenant.tenantId}`, status: 'active' });
    const before = await kit.logLength();
    expect(
      (
        await http()
          .patch(T)
          .set(AUTH)
          .send({ name: `Fresh ${tenant.tenantId}` })
      ).status,
    ).toBe(200);
    expect(await kit.logLength()).toBe(before);
    const cased = await http()
      .patch(T)
      .set(AUTH)
      .send({ name: `FRESH ${tenant.tenantId}` });
    expect(cased.status).toBe(200);
    // Only the tenant's event: the name's reservation stays as it is.
    expect(await kit.logLength()).toBe(before + 1);
    // The old name is free again, the new one is not.
    expect((await http().post('/v1/tenants').set(AUTH).send({ name: tenant.name })).status).toBe(201);
    const taken = await http()
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: `fresh ${tenant.tenantId}` });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: 'TENANT_NAME_TAKEN' });
  });

  it('refuses a taken name, an invalid one, and answers 404 for an unknown tenant and 403 for a tenant key', async () => {
    const one = await kit.createTenant('One');
    const two = await kit.createTenant('Two');
    await kit.settle();
    const before = await kit.logLength();
    const taken = await http().patch(`/v1/tenants/${one.tenantId}`).set(AUTH).send({ name: two.name });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: 'TENANT_NAME_TAKEN' });
    expect((await http().patch(`/v1/tenants/${one.tenantId}`).set(AUTH).send({ name: '' })).status).toBe(400);
    expect((await http().patch(`/v1/tenants/${one.tenantId}`).set(AUTH).send({})).status).toBe(400);
    expect(await kit.logLength()).toBe(before);
    const missing = await http()
      .patch('/v1/tenants/00000000-0000-4000-8000-000000000000')
      .set(AUTH)
      .send({ name: 'Nobody' });
    expect(missing.status).toBe(404);
    const key = await kit.issueKey(one.tenantId, 'admin');
    expect(
      (await http().patch(`/v1/tenants/${one.tenantId}`).set(key.auth).send({ name: 'Mine' })).status,
    ).toBe(403);
  });

  it('50 concurrent renames of two tenants to one new name on two instances: exactly one tenant wins, names stay unique, the old name is released only after the new one is held', async () => {
    const x = await kit.createTenant('Rival X');
    const y = await kit.createTenant('Rival Y');
    const wanted = `Contested ${x.tenantId.slice(0, 8)}`;
    const attempts = Array.from({ length: 50 }, (_, index) => ({
      tenant: index % 2 === 0 ? x : y,
      app: index % 4 < 2 ? first : second,
    }));
    const responses = await Promise.all(
      attempts.map(({ tenant, app }) =>
        on(app).patch(`/v1/tenants/${tenant.tenantId}`).set(AUTH).send({ name: wanted }),
      ),
    );
    const outcomes = responses.map((response, index) => ({
      tenantId: attempts[index]!.tenant.tenantId,
      status: response.status,
      code: (response.body as { code?: string }).code,
    }));
    const winners = new Set(
      outcomes.filter((outcome) => outcome.status === 200).map((outcome) => outcome.tenantId),
    );
    expect(winners.size).toBe(1);
    const winner = [x, y].find((tenant) => winners.has(tenant.tenantId))!;
    const loser = winner === x ? y : x;
    for (const outcome of outcomes) {
      expect(outcome).toEqual(
        outcome.tenantId === winner.tenantId
          ? { tenantId: winner.tenantId, status: 200, code: undefined }
          : { tenantId: loser.tenantId, status: 409, code: 'TENANT_NAME_TAKEN' },
      );
    }

    // Folded afresh: one tenant bears the name, the other its old one.
    const { state: won } = await first.app.get(TenantCommandExecutor).read(winner.tenantId);
    const { state: lost } = await second.app.get(TenantCommandExecutor).read(loser.tenantId);
    expect([won.name, lost.name]).toEqual([wanted, loser.name]);
    const renames = (await streamOf(tenantStreamName(winner.tenantId))).filter(
      (event) => event.type === 'TenantRenamed',
    );
    expect(renames).toHaveLength(1);

    // The names are held by whoever bears them: the new and the loser's old name are taken, the
    // winner's old one is free.
    const create = (name: string) => http().post('/v1/tenants').set(AUTH).send({ name });
    expect((await create(wanted)).status).toBe(409);
    expect((await create(loser.name)).status).toBe(409);

    // The order in the log: the new name reserved, then the tenant renamed, then the old name released.
    const store = first.runtime.eventStore;
    const newName = (await streamOf(tenantNameStreamName(resourceNameKey(wanted)))).filter(
      (event) => event.type === 'TenantNameReserved' && event.data.tenantId === winner.tenantId,
    );
    const oldName = await streamOf(tenantNameStreamName(resourceNameKey(winner.name)));
    const released = oldName.find((event) => event.type === 'TenantNameReleased');
    expect(released).toBeDefined();
    expect(store.comparePositions(newName[0]!.position, renames[0]!.position)).toBeLessThan(0);
    expect(store.comparePositions(renames[0]!.position, released!.position)).toBeLessThan(0);
    expect((await create(winner.name)).status).toBe(201);

    // The list of tenants names each one once.
    const listed = await http()
      .get('/v1/tenants?limit=100')
      .set(AUTH)
      .set('Min-Position', renames[0]!.position);
    const names = (listed.body as { items: { name: string }[] }).items.map((item) =>
      resourceNameKey(item.name),
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it('a rename back and forth keeps both names owned by the tenant at every step', async () => {
    const tenant = await kit.createTenant('Swing');
    const T = `/v1/tenants/${tenant.tenantId}`;
    const other = `Other ${tenant.tenantId}`;
    expect((await http().patch(T).set(AUTH).send({ name: other })).status).toBe(200);
    expect((await http().patch(T).set(AUTH).send({ name: tenant.name })).status).toBe(200);
    expect((await http().post('/v1/tenants').set(AUTH).send({ name: tenant.name })).status).toBe(409);
    expect((await http().post('/v1/tenants').set(AUTH).send({ name: other })).status).toBe(201);
  });

  it('the database lost between reserving the new name and renaming: 503, the tenant keeps its name, and the new one is free again after the reclaim window', async () => {
    const tenant = await kit.createTenant('Crash');
    const wanted = `Never held ${tenant.tenantId}`;
    const store = first.runtime.eventStore;
    const append = store.appendToStream.bind(store);
    store.appendToStream = async (stream, events, expected) => {
      if (stream === tenantStreamName(tenant.tenantId)) {
        throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      }
      return append(stream, events, expected);
    };
    let answer;
    try {
      answer = await http().patch(`/v1/tenants/${tenant.tenantId}`).set(AUTH).send({ name: wanted });
    } finally {
      store.appendToStream = append;
    }
    expect(answer.status).toBe(503);
    const { state } = await first.app.get(TenantCommandExecutor).read(tenant.tenantId);
    expect(state.name).toBe(tenant.name);
    // The reservation the rename left behind holds the name for a while: nobody takes it at once...
    const other = await kit.createTenant('Claimant');
    const registry = second.app.get(TenantNameRegistry);
    const claim = (minutesLater: number) =>
      registry.reserve(other.tenantId, parseResourceName(wanted), {
        actor: 'test',
        correlationId: 'c',
        causationId: 'c',
        now: new Date(Date.now() + minutesLater * 60_000),
      });
    await expect(claim(0)).rejects.toMatchObject({ code: 'TENANT_NAME_TAKEN' });
    // ...and after the window it can be reclaimed: no name is held by nobody for longer.
    await expect(claim(ABANDONED_RESERVATION_MS / 60_000 + 1)).resolves.toEqual(expect.any(Number));
    // The tenant kept its old name all along: it is still held.
    expect((await http().post('/v1/tenants').set(AUTH).send({ name: tenant.name })).status).toBe(409);
    // Retried with the database back, the rename goes through.
    const retried = await http()
      .patch(`/v1/tenants/${tenant.tenantId}`)
      .set(AUTH)
      .send({ name: `${wanted} 2` });
    expect(retried.status).toBe(200);
  });
});

import path from 'node:path';
import os from 'node:os';
import { HttpClient, type HttpAnswer } from '../lib/http.js';
import { startService } from '../lib/service.js';
import { round, summarize } from '../lib/stats.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';
import { appendInBatches, permissionTenant, randomSource } from './permissions.seed.js';

const GIVE_UP_MS = 5_000;

export const grantToCheckScenario: Scenario = {
  id: 'grant-to-check',
  description:
    'time from a RoleGranted 201 to a check (no Min-Position) that sees it, on the instance that wrote it and on a second instance (HTTP only) reached through the log',
  target: { text: 'p99 <= 50 ms', checks: [{ metric: 'figure', op: '<=', value: 50 }] },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    const tenant = await permissionTenant(ctx, size);
    const notes = [...tenant.notes];
    const T = `/v1/tenants/${tenant.tenantId}`;
    const rounds = size === 'quick' ? 40 : 200;
    const random = randomSource(23);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

    // A second service process on the same database that runs no consumers: it learns of the
    // first one's writes only through the log.
    const previous = process.env.TENANCY_RUN_CONSUMERS;
    process.env.TENANCY_RUN_CONSUMERS = 'false';
    const second = await startService({
      databaseUrl: ctx.databaseUrl,
      operatorKey: ctx.service.operatorKey,
      logFile: path.join(os.tmpdir(), `tenancy-bench-second-${ctx.runTag}.log`),
    }).finally(() => {
      if (previous === undefined) delete process.env.TENANCY_RUN_CONSUMERS;
      else process.env.TENANCY_RUN_CONSUMERS = previous;
    });
    const other = new HttpClient(second.baseUrl, ctx.service.operatorKey, 4);
    try {
      const users = Array.from({ length: rounds }, (_, index) => `g2c-${ctx.runTag}-${index}`);
      // Members added through the EventStore port (as the seed was): not part of what is measured.
      await appendInBatches(
        ctx.eventStore,
        tenant.tenantId,
        users.map((userId) => ({
          type: 'MemberAdded',
          data: { tenantId: tenant.tenantId, userId, displayName: null },
        })),
      );
      const checkOn = (client: HttpClient, userId: string, workspaceId: string): Promise<HttpAnswer> =>
        client.send({
          method: 'POST',
          path: `${T}/permissions/check`,
          body: { principal: { type: 'user', id: userId }, permission: 'workspace.write', workspaceId },
        });
      // Both instances fold the tenant before the clock starts.
      for (const client of [ctx.http, other])
        await checkOn(client, users[0]!, tenant.workspaces[0]!.workspaceId);

      const delays = { same: [] as number[], other: [] as number[] };
      const polls = { same: 0, other: 0 };
      let failures = 0;
      for (const [index, userId] of users.entries()) {
        const which = index % 2 === 0 ? 'other' : 'same';
        const client = which === 'other' ? other : ctx.http;
        const workspaceId = pick(tenant.workspaces).workspaceId;
        const granted = await ctx.http.send({
          method: 'POST',
          path: `${T}/grants`,
          body: { principal: { type: 'user', id: userId }, role: 'editor', workspaceId },
        });
        const answeredAt = performance.now();
        if (granted.status !== 201) {
          failures += 1;
          continue;
        }
        for (;;) {
          const check = await checkOn(client, userId, workspaceId);
          polls[which] += 1;
          if ((check.body as { allowed?: boolean }).allowed === true) {
            delays[which].push(performance.now() - answeredAt);
            break;
          }
          if (performance.now() - answeredAt > GIVE_UP_MS) {
            failures += 1;
            break;
          }
        }
      }
      const sameSummary = summarize(delays.same);
      const otherSummary = summarize(delays.other);
      const worst = Math.max(sameSummary.p99, otherSummary.p99);
      notes.push(
        `${rounds} grants, alternating the instance asked; from the 201 to the first allowed answer (the check's own round trip included)`,
        `same instance: p50 ${round(sameSummary.p50)} ms, p99 ${round(sameSummary.p99)} ms, ${round(polls.same / Math.max(1, delays.same.length), 2)} checks per grant`,
        `second instance: p50 ${round(otherSummary.p50)} ms, p99 ${round(otherSummary.p99)} ms, max ${round(otherSummary.max)} ms, ${round(polls.other / Math.max(1, delays.other.length), 2)} checks per grant`,
      );
      if (failures > 0) notes.push(`${failures} grants not seen within ${GIVE_UP_MS} ms or not granted`);
      return {
        figure: round(worst),
        unit: 'ms p99 (worse of the two instances)',
        metrics: {
          sameP50Ms: round(sameSummary.p50),
          sameP99Ms: round(sameSummary.p99),
          otherP50Ms: round(otherSummary.p50),
          otherP99Ms: round(otherSummary.p99),
        },
        verified: { grants: rounds, seenSame: delays.same.length, seenOther: delays.other.length, failures },
        verifiedOk: failures === 0 && delays.same.length + delays.other.length === rounds,
        notes,
      };
    } finally {
      await other.close();
      await second.stop();
    }
  },
};

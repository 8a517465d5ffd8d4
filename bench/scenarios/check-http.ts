import { CpuClock, cpuPerOperation, cpuUsedBetween, type CpuReading } from '../lib/cpu-time.js';
import { runLoad, type LoadOptions, type RequestSpec } from '../lib/http.js';
import { round } from '../lib/stats.js';
import type { BenchContext, Scenario, ScenarioOutcome, Size } from '../lib/types.js';
import { permissionTenant, randomSource } from './permissions.seed.js';

const CLIENTS = 16;
const PERMISSIONS = ['workspace.read', 'workspace.write', 'workspace.delete', 'grants.manage'] as const;

export const checkHttpScenario: Scenario = {
  id: 'check-http',
  description: `POST /v1/tenants/{t}/permissions/check, one check per request, ${CLIENTS} clients, random (member, workspace, permission) in the seeded tenant`,
  target: {
    text: 'p99 <= 3 ms, >= 3,000 checks/s',
    checks: [
      { metric: 'p99Ms', op: '<=', value: 3 },
      { metric: 'figure', op: '>=', value: 3_000 },
    ],
  },

  async run(ctx: BenchContext, size: Size): Promise<ScenarioOutcome> {
    const tenant = await permissionTenant(ctx, size);
    const notes = [...tenant.notes];
    const path = `/v1/tenants/${tenant.tenantId}/permissions/check`;
    const random = randomSource(17);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const next = (): RequestSpec => ({
      method: 'POST',
      path,
      body: {
        principal: { type: 'user', id: pick(tenant.users) },
        permission: pick(PERMISSIONS),
        workspaceId: pick(tenant.workspaces).workspaceId,
      },
    });
    // The first check makes the service fold the tenant into its cache.
    const first = await ctx.http.send(next());
    notes.push(
      `first check (the service folds the seeded tenant): ${round(first.ms, 1)} ms, status ${first.status}`,
    );

    const durationMs = size === 'quick' ? 3_000 : 15_000;
    const warmupMs = size === 'quick' ? 1_000 : 3_000;
    // The CPU each answer costs the service: unlike the rate, it hardly moves when the machine is
    // busier, so it is the figure that tells two builds of the service apart.
    const cpu = await CpuClock.forServerOf(ctx.pool, { service: ctx.service.pid });
    const measured = async (spec: Omit<LoadOptions, 'onWindowStart'>, noun: string) => {
      let atWindow: CpuReading | undefined;
      const result = await runLoad(ctx.http, {
        ...spec,
        onWindowStart: () => (atWindow = cpu.read()),
      });
      const perAnswer =
        atWindow && cpuPerOperation(cpuUsedBetween(atWindow, cpu.read()), result.requests, noun);
      return { result, perAnswer };
    };
    let allowed = 0;
    let malformed = 0;
    const { result: load, perAnswer: perCheck } = await measured(
      {
        clients: CLIENTS,
        durationMs,
        warmupMs,
        next,
        onAnswer: (_spec, answer) => {
          const body = answer.body as { allowed?: unknown; position?: unknown };
          if (typeof body?.allowed !== 'boolean' || typeof body.position !== 'string') malformed += 1;
          else if (body.allowed) allowed += 1;
        },
      },
      'check',
    );
    // The floor of this service's HTTP stack on the same machine and clients: the liveness route.
    const { result: floor, perAnswer: perLive } = await measured(
      { clients: CLIENTS, durationMs, warmupMs, next: () => ({ method: 'GET', path: '/health/live' }) },
      'liveness request',
    );
    notes.push(
      `${CLIENTS} closed-loop clients for ${durationMs / 1000} s after ${warmupMs / 1000} s warm-up; p50 ${round(load.latency.p50)} ms, p95 ${round(load.latency.p95)} ms, p99 ${round(load.latency.p99)} ms; ${round((100 * allowed) / Math.max(1, load.requests), 1)}% allowed`,
      `ceiling: GET /health/live with the same clients, ${Math.round(floor.perSecond).toLocaleString('en')}/s, p99 ${round(floor.latency.p99)} ms`,
      ...(perCheck ? [perCheck.note] : []),
      ...(perLive ? [perLive.note] : []),
    );
    if (load.failures > 0) notes.push(`${load.failures} failed requests, e.g. ${load.failureSamples[0]}`);
    return {
      figure: Math.round(load.perSecond),
      unit: `checks/s (p99 ${round(load.latency.p99)} ms)`,
      ceiling: Math.round(floor.perSecond),
      ceilingUnit: 'GET /health/live per s',
      ratio: round(load.perSecond / floor.perSecond, 3),
      metrics: {
        p50Ms: round(load.latency.p50),
        p95Ms: round(load.latency.p95),
        p99Ms: round(load.latency.p99),
        floorP99Ms: round(floor.latency.p99),
        ...perCheck?.metrics,
        ...(perLive?.serviceMs === undefined
          ? {}
          : { serviceCpuMsPerLivenessRequest: round(perLive.serviceMs, 3) }),
      },
      verified: { answers: load.requests, failures: load.failures, malformed, allowed },
      verifiedOk: load.failures === 0 && malformed === 0 && load.requests > 0 && allowed > 0,
      notes,
    };
  },
};

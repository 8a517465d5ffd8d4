import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig, SETTINGS } from './app-config.js';

const problemsOf = (env: NodeJS.ProcessEnv): readonly string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('the config schema', () => {
  it('gives every setting its default when the environment is empty', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      httpHeadersTimeoutMs: 10_000,
      httpRequestTimeoutMs: 30_000,
      httpKeepAliveTimeoutMs: 5_000,
      databaseStartWaitMs: 60_000,
      databaseUrl: undefined,
      dataDir: path.resolve('.data'),
      eventStoreUrl: undefined,
      operatorKey: undefined,
      operatorKeyPrevious: undefined,
      defaultTenant: undefined,
      runConsumers: true,
      cascadeBatchSize: 500,
      sseHeartbeatMs: 15_000,
      sseMaxStreams: 256,
      sseMaxStreamsPerKey: 16,
      rateLimitPerTenant: 0,
      rateLimitBurst: 0,
      sseStallTimeoutMs: 60_000,
      consumerSessionTimeoutMs: 30_000,
      consumerFailedRetryMs: 60_000,
      shutdownDelayMs: 0,
      logHorizonThresholdMs: 1_000,
      stateCacheEvents: 500_000,
      heapGrowthPercent: 100,
      logLevel: 'info',
      quotaMaxWorkspaces: 1_000_000,
      quotaMaxDepth: 1_000,
      quotaMaxApiKeys: 100,
      quotaMaxMembers: 100_000,
      quotaMaxGroups: 10_000,
    });
  });

  it('types what it reads, and treats blank as unset', () => {
    const config = loadConfig({
      PORT: ' 8080 ',
      TENANCY_RUN_CONSUMERS: 'false',
      TENANCY_SSE_HEARTBEAT_MS: '250',
      DATABASE_URL: 'postgresql://app:pw@db:5432/tenancy',
      TENANCY_DEFAULT_TENANT: '   ',
    });
    expect(config).toMatchObject({
      port: 8080,
      runConsumers: false,
      sseHeartbeatMs: 250,
      defaultTenant: undefined,
    });
  });

  it('reports every invalid setting at once, and never echoes a secret', () => {
    const problems = problemsOf({
      PORT: '70000',
      TENANCY_RUN_CONSUMERS: 'flase',
      TENANCY_OPERATOR_KEY: 'too-short-secret',
      TENANCY_SSE_HEARTBEAT_MS: '5',
      TENANCY_CASCADE_BATCH_SIZE: '1.5',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://app:hunter2hunter2@db/tenancy',
    });
    expect(problems).toEqual([
      'PORT must be at most 65535, not "70000"',
      'DATABASE_URL must be a URL starting with postgres:// or postgresql://',
      'TENANCY_OPERATOR_KEY must be at least 32 characters long',
      'TENANCY_RUN_CONSUMERS must be true or false, not "flase"',
      'TENANCY_CASCADE_BATCH_SIZE must be a whole number, not "1.5"',
      'TENANCY_SSE_HEARTBEAT_MS must be at least 10, not "5"',
      'LOG_LEVEL must be debug, info, warn or error, not "loud"',
    ]);
    expect(problems.join('\n')).not.toMatch(/too-short-secret|hunter2/);
  });

  it('refuses a headers bound longer than the request bound, as Node would when the server starts', () => {
    expect(problemsOf({ TENANCY_HTTP_HEADERS_TIMEOUT_MS: '40000' })).toEqual([
      'TENANCY_HTTP_HEADERS_TIMEOUT_MS must be at most TENANCY_HTTP_REQUEST_TIMEOUT_MS (30000), not 40000',
    ]);
    expect(
      problemsOf({ TENANCY_HTTP_HEADERS_TIMEOUT_MS: '2000', TENANCY_HTTP_REQUEST_TIMEOUT_MS: '2000' }),
    ).toEqual([]);
  });

  it('refuses a rate-limit burst without a rate: it would read as a limit that is not there', () => {
    expect(problemsOf({ TENANCY_RATE_LIMIT_BURST: '50' })).toEqual([
      'TENANCY_RATE_LIMIT_BURST needs TENANCY_RATE_LIMIT_PER_TENANT: without a rate, no request is limited',
    ]);
    expect(problemsOf({ TENANCY_RATE_LIMIT_BURST: '50', TENANCY_RATE_LIMIT_PER_TENANT: '10' })).toEqual([]);
  });

  it('accepts only the words true and false for a boolean', () => {
    for (const value of ['TRUE', 'yes', '1', 'no', 'off']) {
      expect(problemsOf({ TENANCY_RUN_CONSUMERS: value })).toHaveLength(1);
    }
  });

  it("is documented row for row in the README's configuration table", () => {
    const readme = readFileSync(path.resolve('README.md'), 'utf8');
    for (const setting of Object.values(SETTINGS)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${setting.variable}\``));
      const cells = row?.split('|').map((cell) => cell.trim());
      expect([setting.variable, cells?.[2]]).toEqual([
        setting.variable,
        'default' in setting ? `\`${setting.default}\`` : 'unset',
      ]);
    }
  });
});

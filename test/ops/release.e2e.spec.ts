import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CURRENT_SCHEMA_VERSION } from '../../src/tenancy/tenancy.events.js';
import { PROCESS_OPERATOR_KEY, PROJECT_ROOT, startServiceProcess } from '../support/service-process.js';
import { runTenancyProcess } from '../support/tenancy-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const VERSION = (
  JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
const RELEASE_LINE = `tenancy ${VERSION} (event schema version ${CURRENT_SCHEMA_VERSION})`;

/**
 * While two versions run side by side, an operator has to tell the instances apart: each says which
 * release it is where an operator looks (its first log lines, its metrics, the CLI).
 */
describe('which release a process is', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it('tenancy --version prints it and exits 0, needing no database', async () => {
    for (const flag of ['--version', '-V']) {
      const run = await runTenancyProcess([flag], 'postgres://nobody@127.0.0.1:1/none');
      expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 0, stdout: `${RELEASE_LINE}\n` });
    }
  });

  it('the service logs it as it starts and reports it as tenancy_build_info', async () => {
    const service = await startServiceProcess({ env: { DATABASE_URL: database.url } });
    try {
      const messages = service
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(messages).toContain(`${RELEASE_LINE} starting`);
      const metrics = await fetch(`${service.baseUrl}/metrics`, {
        headers: { Authorization: `Bearer ${PROCESS_OPERATOR_KEY}` },
      });
      expect(await metrics.text()).toContain(
        `tenancy_build_info{version="${VERSION}",schema_version="${CURRENT_SCHEMA_VERSION}"} 1`,
      );
    } finally {
      await service.stop();
    }
  });
});

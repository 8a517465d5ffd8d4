import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { PROJECT_ROOT } from '../support/service-process.js';
import { AUTH, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `tenancy` as an auditor's script runs it: a process whose exit code says what happened (0 ok,
 * 1 failure or difference, 2 usage), whatever libraries it loads.
 */
describe('the tenancy CLI as a process', () => {
  let app: TestApp;

  const tenancy = (args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ['bin/tenancy.js', ...args],
        { cwd: PROJECT_ROOT, env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: app.database.url } },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    app = await startTestApp();
    const tenant = await request(app.server)
      .post('/v1/tenants')
      .set(AUTH)
      .send({ name: `Cli ${randomUUID()}` });
    const workspace = await request(app.server)
      .post(`/v1/tenants/${tenant.body.tenantId}/workspaces`)
      .set(AUTH)
      .send({ name: 'Audited' });
    expect(workspace.status).toBe(201);
    await waitFor(async () => {
      const { rowCount } = await app.database.pool.query(
        'SELECT 1 FROM read_model.workspaces WHERE workspace_id = $1',
        [workspace.body.workspaceId],
      );
      return rowCount === 1;
    }, 10_000);
  });
  afterAll(async () => app?.close());

  it('exits 2 for an unknown command, no command, or a missing option', async () => {
    for (const args of [
      ['no-such-command'],
      [],
      ['history'],
      ['history', '--tenant', 'not-a-uuid'],
      ['verify', '--bogus'],
    ]) {
      const run = await tenancy(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
    }
  });

  it('exits 0 for help', async () => {
    expect((await tenancy(['--help'])).code).toBe(0);
  });

  it('verify exits 0 on matching read models and 1 once a row was tampered with', async () => {
    const clean = await tenancy(['verify']);
    expect(clean.stdout).toMatch(/read models match the event log/);
    expect(clean.code).toBe(0);

    await app.database.pool.query(`UPDATE read_model.workspaces SET name = 'tampered' WHERE NOT is_root`);
    const tampered = await tenancy(['verify']);
    expect(tampered.stdout).toMatch(/read models DIFFER/);
    expect(tampered.code).toBe(1);
  });
});

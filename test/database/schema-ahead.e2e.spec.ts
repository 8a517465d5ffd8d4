import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { cliSaid, runTenancyProcess } from '../support/tenancy-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const NEWER = '0099_from-a-newer-version';

/**
 * After a rollback, the database holds migrations a newer version applied. This version still runs
 * on it (its own migrations are all there), but says so; and it does not rebuild read models whose
 * tables a newer version shaped, since it would fill them with its own, older, projections.
 */
describe('a database migrated by a newer version', () => {
  let database: TestDatabase;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    await database.pool.query('INSERT INTO schema_migrations (name, run_on) VALUES ($1, now())', [NEWER]);
  });
  afterAll(async () => {
    await service?.stop();
    await database.drop();
  });

  const checkpoints = async () =>
    (await database.pool.query('SELECT projection, position FROM read_model.checkpoints ORDER BY 1')).rows;

  it('the service starts on it and warns, naming what it does not know', async () => {
    service = await startServiceProcess({ env: { DATABASE_URL: database.url } });
    const warnings = service
      .output()
      .split('\n')
      .filter((line) => line.includes('"level":"warn"') && line.includes(NEWER));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('newer version');
    await service.stop();
    service = undefined;
  });

  it('tenancy replay refuses it with exit 1 and changes nothing', async () => {
    const before = await checkpoints();
    const run = await runTenancyProcess(['replay'], database.url);
    expect(run.code).toBe(1);
    expect(cliSaid(run).join('\n')).toContain(NEWER);
    expect(await checkpoints()).toEqual(before);
    const schemas = await database.pool.query(
      "SELECT 1 FROM information_schema.schemata WHERE schema_name = 'read_model_replay'",
    );
    expect(schemas.rowCount).toBe(0);
  });

  it('tenancy verify reads it, and warns', async () => {
    const run = await runTenancyProcess(['verify'], database.url);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(NEWER);
  });
});

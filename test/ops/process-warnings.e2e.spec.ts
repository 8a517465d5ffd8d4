import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { PROJECT_ROOT, spawnServiceProcess } from '../support/service-process.js';
import { createTestDatabase } from '../support/test-database.js';

/**
 * A warning Node or a dependency emits while the service runs (a deprecation, pg's notice about
 * what `sslmode=require` means, a listener leak) is a line of the service's JSON log like any
 * other, not Node's own text of several lines on standard error that a pipeline reading JSON
 * lines cannot parse.
 */
describe("the process's warnings", () => {
  it("are JSON lines of the log at warn, pg's sslmode notice among them", async () => {
    const database = await createTestDatabase();
    try {
      // The test server offers no TLS: asked for it, the start fails (exit 1), after pg's warning.
      const url = new URL(database.url);
      url.searchParams.set('sslmode', 'require');
      const service = spawnServiceProcess({ env: { DATABASE_URL: url.toString() } });
      expect(await service.exited).toBe(1);

      const lines = service
        .output()
        .split('\n')
        .filter((line) => line.length > 0);
      const notJson = lines.filter((line) => {
        try {
          JSON.parse(line);
          return false;
        } catch {
          return true;
        }
      });
      expect(notJson).toEqual([]);
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const warning = entries.find((entry) => String(entry.msg).includes('SECURITY WARNING'));
      expect(warning).toMatchObject({ level: 'warn', warning: { name: 'Warning' } });
      expect(String(warning?.msg)).toContain("'verify-full'");
      expect(entries.filter((entry) => entry.level === 'fatal')).toEqual([
        expect.objectContaining({
          msg: 'the service could not start: The server does not support SSL connections',
        }),
      ]);
    } finally {
      await database.drop();
    }
  }, 60_000);

  it("stay as silent as the operator made Node's: --disable-warning and NODE_NO_WARNINGS are honoured", () => {
    const module = path.join(PROJECT_ROOT, 'dist', 'src', 'observability', 'process-warnings.js');
    const script = `
      import { logProcessWarnings } from ${JSON.stringify(module)};
      logProcessWarnings((fields, line) => console.log(JSON.stringify({ ...fields, line })));
      process.emitWarning('the first', 'TestWarning', 'TEST1');
      process.emitWarning('the second', 'TestWarning', 'TEST2');
    `;
    const run = (flags: string[], env: Record<string, string> = {}) => {
      const result = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script], {
        env: { ...process.env, NODE_OPTIONS: '', ...env },
        encoding: 'utf8',
      });
      return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
    };

    expect(run(['--disable-warning=TEST2'])).toEqual({
      status: 0,
      stdout: JSON.stringify({
        warning: { name: 'TestWarning', code: 'TEST1' },
        line: 'TestWarning: the first',
      }),
      stderr: '',
    });
    expect(run(['--disable-warning', 'TestWarning'])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(run([], { NODE_NO_WARNINGS: '1' })).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(run(['--no-warnings'])).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});

// Jest loads global setup outside its module mapper, so the TypeScript sources (imported with
// .js suffixes, as ESM requires) are loaded through tsx here.
import { execFileSync } from 'node:child_process';
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup(globalConfig) {
  // Tests that run the service as a process (faults, signals, crashes) run the built code, as
  // `npm start` does: build it once for the whole run.
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
  const { startTestPostgres } = await tsImport('./start-test-postgres.ts', import.meta.url);
  await startTestPostgres(globalConfig.maxWorkers);
}

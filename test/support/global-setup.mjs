// Jest loads global setup outside its module mapper, so the TypeScript sources (imported with
// .js suffixes, as ESM requires) are loaded through tsx here.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const { startTestPostgres } = await tsImport('./start-test-postgres.ts', import.meta.url);
  await startTestPostgres();
}

import { rm } from 'node:fs/promises';
import { runScratch, startedServers } from './start-test-postgres.js';

export async function stopTestPostgres(): Promise<void> {
  await Promise.all(startedServers().map((server) => server.stop()));
  const { directory, guard } = runScratch();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  guard?.release();
}

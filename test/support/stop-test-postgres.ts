import { startedServers } from './start-test-postgres.js';

export async function stopTestPostgres(): Promise<void> {
  await Promise.all(startedServers().map((server) => server.stop()));
}

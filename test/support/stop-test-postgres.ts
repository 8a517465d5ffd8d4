import type { RunningPostgres } from '../../src/database/embedded-postgres.server.js';

export async function stopTestPostgres(): Promise<void> {
  const server = (globalThis as { __TEST_POSTGRES__?: RunningPostgres }).__TEST_POSTGRES__;
  if (server) await server.stop();
}

import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { TenantCommandExecutor } from '../../src/application/commands/tenant-command.executor.js';

/**
 * Holds every command an API key sends, once the guard has let it in and before it is decided,
 * until `release()`: for tests of what happens meanwhile (a revocation, a move).
 */
export function holdWritesOf(app: INestApplication, apiKeyId: string) {
  const executor = app.get(TenantCommandExecutor);
  const execute = executor.execute.bind(executor);
  let arrived = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const spy = jest.spyOn(executor, 'execute').mockImplementation(async (command, context, options) => {
    if (context.actor === apiKeyId) {
      arrived += 1;
      await gate;
    }
    return execute(command, context, options);
  });
  return {
    /** How many of the key's commands are held. */
    arrived: () => arrived,
    release: () => release(),
    /** Releases what is held and lets later commands through untouched. */
    restore: () => {
      release();
      spy.mockRestore();
    },
  };
}

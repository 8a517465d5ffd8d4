import type { Scenario } from '../lib/types.js';
import { appendPortScenario, appendScenario } from './append.js';
import { bigTenantScenario } from './big-tenant.js';
import { cascadeScenario } from './cascade.js';
import { checkCoreScenario } from './check-core.js';
import { checkHttpScenario } from './check-http.js';
import { grantToCheckScenario } from './grant-to-check.js';
import { lookupScenario } from './lookup.js';
import { commandsScenario } from './commands.js';
import { contendedScenario } from './contended.js';
import { lagScenario } from './lag.js';
import { lagSteadyScenario } from './lag-steady.js';
import { listScenario } from './list.js';
import { memoryScenario } from './memory.js';
import { moveScenario } from './move.js';
import { rebuildScenario } from './rebuild.js';
import { replayCliScenario } from './replay-cli.js';

/**
 * In run order: the port alone before the service starts (append-port), then the write path on a
 * small database (append, then commands), the read side under the same load (lag) and at a steady
 * rate, then the scenarios that seed large tenants (a big one, a cascade, a subtree moved), the
 * permission scenarios on one tenant seeded with members, groups and grants, the service's memory
 * peak over all of them, and rebuild and replay-cli last, on one log in a database of its own.
 */
export const SCENARIOS: readonly Scenario[] = [
  appendPortScenario,
  appendScenario,
  contendedScenario,
  commandsScenario,
  lagScenario,
  lagSteadyScenario,
  bigTenantScenario,
  listScenario,
  cascadeScenario,
  moveScenario,
  // One seeded tenant (members, groups, grants) shared by the four permission scenarios.
  checkCoreScenario,
  checkHttpScenario,
  lookupScenario,
  grantToCheckScenario,
  // After every scenario that loads the service: its peak over the whole run.
  memoryScenario,
  rebuildScenario,
  replayCliScenario,
];

import type { Scenario } from '../lib/types.js';
import { appendScenario } from './append.js';
import { bigTenantScenario } from './big-tenant.js';
import { cascadeScenario } from './cascade.js';
import { checkCoreScenario } from './check-core.js';
import { checkHttpScenario } from './check-http.js';
import { grantToCheckScenario } from './grant-to-check.js';
import { lookupScenario } from './lookup.js';
import { commandsScenario } from './commands.js';
import { contendedScenario } from './contended.js';
import { lagScenario } from './lag.js';
import { listScenario } from './list.js';
import { memoryScenario } from './memory.js';
import { rebuildScenario } from './rebuild.js';

/**
 * In run order: the write path first on a small database (append, then commands and the memory it
 * left), the read side under the same load (lag), then the scenarios that seed large tenants, and
 * the permission scenarios on one tenant seeded with members, groups and grants, and rebuild last,
 * in a database of its own.
 */
export const SCENARIOS: readonly Scenario[] = [
  appendScenario,
  contendedScenario,
  commandsScenario,
  memoryScenario,
  lagScenario,
  bigTenantScenario,
  listScenario,
  cascadeScenario,
  // One seeded tenant (members, groups, grants) shared by the four permission scenarios.
  checkCoreScenario,
  checkHttpScenario,
  lookupScenario,
  grantToCheckScenario,
  rebuildScenario,
];

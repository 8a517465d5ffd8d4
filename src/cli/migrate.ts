import { loadConfig } from '../config/app-config.js';
import { openRuntime } from '../app/runtime.js';

/**
 * `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded PostgreSQL of
 * this checkout (started for the purpose, or the one a running service already uses).
 */
const runtime = await openRuntime(loadConfig(), (_level, line) => console.log(line));
await runtime.close();

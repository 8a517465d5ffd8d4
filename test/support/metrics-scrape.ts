/** Prometheus text format -> value by `name{label="value",...}` with the labels in sorted order. */
export function scrapeValues(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, name, value]) => `${name}="${value}"`)
      .sort();
    values.set(`${match[1]}{${labels.join(',')}}`, Number(match[3]));
  }
  return values;
}

/** The key scrapeValues gives a series. */
export const series = (name: string, labels: Record<string, string>): string =>
  `${name}{${Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort()
    .join(',')}}`;

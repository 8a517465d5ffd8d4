import { createHash } from 'node:crypto';
import type pg from 'pg';
import { literal, type SqlStatement } from './sql-statement.js';

interface PreparedOnConnection {
  /** Part of every name: bumped when the cache can no longer be trusted, so new names never clash. */
  generation: number;
  readonly names: Set<string>;
}

const preparedOn = new WeakMap<pg.ClientBase, PreparedOnConnection>();

/**
 * A batch of projection statements repeats a handful of shapes thousands of times. This turns the
 * statements into `EXECUTE` calls of statements prepared on the connection, preceded by the
 * `PREPARE`s of the shapes this connection has not seen yet, so PostgreSQL plans each shape once
 * per connection instead of once per event. The text must run where the tables resolve (after the
 * search path is set): a statement is analysed when it is prepared.
 */
export function preparedCalls(client: pg.ClientBase, statements: readonly SqlStatement[]): string {
  let cache = preparedOn.get(client);
  if (!cache) {
    cache = { generation: 0, names: new Set() };
    preparedOn.set(client, cache);
  }
  const fresh = new Map<string, string>();
  const calls = statements.map((statement) => {
    const name = `p${cache.generation}_${createHash('sha1').update(statement.text).digest('hex').slice(0, 20)}`;
    if (!cache.names.has(name)) fresh.set(name, statement.text);
    return statement.values.length === 0
      ? `EXECUTE ${name}`
      : `EXECUTE ${name}(${statement.values.map(literal).join(', ')})`;
  });
  for (const name of fresh.keys()) cache.names.add(name);
  return [...[...fresh].map(([name, text]) => `PREPARE ${name} AS ${text}`), ...calls].join(';\n');
}

/**
 * After a failed batch it is unknown which preparations took place: later batches prepare again
 * under new names (a preparation that did happen just stays unused until the connection closes).
 */
export function forgetPrepared(client: pg.ClientBase): void {
  const cache = preparedOn.get(client);
  if (!cache) return;
  cache.generation += 1;
  cache.names.clear();
}

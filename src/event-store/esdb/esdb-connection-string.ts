/**
 * @eventstore/db-client 6.x parses only esdb:// and esdb+discover://. KurrentDB, the renamed
 * server, documents kurrentdb:// (and the short kurrent:// and kdb://) for the same format, so
 * those schemes are rewritten; hosts, credentials and options (tls, tlsVerifyCert, gossip seeds
 * as a host list, ...) pass through untouched for the client to parse.
 */
const SCHEME = /^\s*([a-z][a-z0-9+.-]*):\/\//i;
const KURRENT_SCHEMES: ReadonlySet<string> = new Set(['kurrentdb', 'kurrent', 'kdb']);

export function toClientConnectionString(connectionString: string): string {
  const match = SCHEME.exec(connectionString);
  if (!match?.[1]) {
    throw new TypeError('an EventStoreDB connection string starts with esdb:// or esdb+discover://');
  }
  const scheme = match[1].toLowerCase();
  const [base, discover] = scheme.endsWith('+discover')
    ? [scheme.slice(0, -'+discover'.length), '+discover']
    : [scheme, ''];
  const rest = connectionString.slice(match[0].length);
  if (base === 'esdb' || KURRENT_SCHEMES.has(base)) return `esdb${discover}://${rest}`;
  throw new TypeError(
    `unsupported EventStoreDB connection string scheme ${scheme}://; use esdb://, esdb+discover://, kurrentdb:// or kurrentdb+discover://`,
  );
}

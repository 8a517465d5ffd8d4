import type { Express } from 'express';
import { match, type MatchFunction } from 'path-to-regexp';

export interface RegisteredRoute {
  /** The pattern as registered, e.g. `/v1/tenants/:tenantId`. */
  readonly path: string;
  /** Upper case; GET implies HEAD, as express serves it. */
  readonly methods: readonly string[];
}

export interface ResolvedRoute extends RegisteredRoute {
  readonly params: Readonly<Record<string, string>>;
}

interface UnmatchedRoute {
  readonly path: 'unmatched';
  readonly params: Readonly<Record<string, string>>;
}

/** The request's path as the client sent it (express rewrites `url` inside mounted middleware). */
export function pathOf(request: { readonly originalUrl: string }): string {
  const end = request.originalUrl.search(/[?#]/);
  return end === -1 ? request.originalUrl : request.originalUrl.slice(0, end);
}

/**
 * Whether the route a request matched was declared under /v1: the API, as opposed to health,
 * metrics and the OpenAPI document. Decided by the route as declared, never by the path as the
 * client spelt it; a request that matched no declared route counts as the API's (closed).
 */
export function isApiRoute(request: { readonly route?: unknown }): boolean {
  const declared = (request.route as { path?: unknown } | undefined)?.path;
  return typeof declared !== 'string' || declared.startsWith('/v1/');
}

interface RouterLayer {
  readonly route?: { readonly path: unknown; readonly methods: Record<string, boolean> };
}

interface Entry extends RegisteredRoute {
  readonly matches: MatchFunction<object>;
}

const tables = new WeakMap<Express, RouteTable>();
const RESOLVED = Symbol('resolved route');

/**
 * The routes express actually serves, read from its router: what a request that reached no handler
 * (an unknown method, a body that failed to parse) would have matched. It answers 405 with `Allow`,
 * labels metrics and request logs with the route pattern instead of the raw path, and lets a test
 * check the OpenAPI document against what is really registered.
 */
export class RouteTable {
  private entries: readonly Entry[] = [];
  private layerCount = -1;

  private constructor(private readonly app: Express) {}

  static of(app: Express): RouteTable {
    let table = tables.get(app);
    if (!table) {
      table = new RouteTable(app);
      tables.set(app, table);
    }
    return table;
  }

  routes(): readonly RegisteredRoute[] {
    return this.current().map(({ path, methods }) => ({ path, methods }));
  }

  /** The pattern a path belongs to, the methods it allows and its parameters; undefined: no route has it. */
  resolve(path: string): ResolvedRoute | undefined {
    for (const entry of this.current()) {
      const found = entry.matches(path);
      if (found !== false) {
        return { path: entry.path, methods: entry.methods, params: found.params as Record<string, string> };
      }
    }
    return undefined;
  }

  /**
   * The route of a request, looked up once and kept on the request: the API-key check, the request
   * log, the metrics and the error filter each ask, and each lookup tries the routes one by one
   * (under the permission checks' load, three lookups a request were about 3% of the service's
   * CPU; BENCHMARKS.md).
   */
  resolveRequest(request: { readonly originalUrl: string }): ResolvedRoute | undefined {
    const holder = request as { [RESOLVED]?: ResolvedRoute | null };
    const known = holder[RESOLVED];
    if (known !== undefined) return known ?? undefined;
    const route = this.resolve(pathOf(request));
    holder[RESOLVED] = route ?? null;
    return route;
  }

  /** The label of a request in metrics and logs: its route pattern, never the raw path (ids would explode it). */
  label(request: { readonly originalUrl: string }): ResolvedRoute | UnmatchedRoute {
    return this.resolveRequest(request) ?? { path: 'unmatched', params: {} };
  }

  private current(): readonly Entry[] {
    const stack = (this.app.router as unknown as { stack: RouterLayer[] }).stack;
    if (stack.length === this.layerCount) return this.entries;
    const byPath = new Map<string, Set<string>>();
    for (const layer of stack) {
      if (!layer.route || typeof layer.route.path !== 'string') continue;
      const methods = byPath.get(layer.route.path) ?? new Set<string>();
      for (const [method, enabled] of Object.entries(layer.route.methods)) {
        if (!enabled || method === '_all') continue;
        methods.add(method.toUpperCase());
        if (method === 'get') methods.add('HEAD');
      }
      byPath.set(layer.route.path, methods);
    }
    this.entries = [...byPath].map(([path, methods]) => ({
      path,
      methods: [...methods].sort(),
      // As express matches them: case-sensitive, no slash after the path (set in createHttpApp).
      matches: match(path, { decode: false, sensitive: true, trailing: false }),
    }));
    this.layerCount = stack.length;
    return this.entries;
  }
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { API_KEY_SECRET_PREFIX } from '../../application/access/api-key-secret.js';
import { ApiKeyRegistry } from '../../application/access/api-key.registry.js';
import type { Principal } from '../../application/access/principal.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { Metrics } from '../../observability/metrics.js';
import { ProblemError, problem, unauthorized, validationProblem } from '../problem.js';
import { sparingLog } from '../sparing-log.js';
import type { RouteTable } from '../route-table.js';
import { TenantRateLimit } from '../tenant-rate-limit.js';

/** RFC 9110 (11.1, 11.4): the scheme name in any case, one or more spaces, then the key. */
const BEARER = /^Bearer +([\x21-\x7e]{1,512})$/i;

/** Where authenticateApiRequests leaves the caller it found, for the guard to authorize. */
const AUTHENTICATED_KEY = 'tenancyAuthenticated';

type AuthenticatedRequest = Request & { [AUTHENTICATED_KEY]?: Principal };

/**
 * Who is calling, from `Authorization: Bearer <key>`: the operator key (compared as SHA-256
 * digests in constant time, so neither its content nor its length leaks through timing) or a
 * tenant key from the in-memory ApiKeyRegistry (no event store round trip per request). What the
 * caller may do is the ApiKeyGuard's to decide.
 */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly operatorDigest: Buffer;
  /** The operator key being rotated out, still accepted (TENANCY_OPERATOR_KEY_PREVIOUS). */
  private readonly previousOperatorDigest: Buffer | undefined;
  private readonly mayLogPreviousUse = sparingLog(60_000);
  private readonly logger = new Logger('Authentication');
  private readonly rateLimit: TenantRateLimit;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly registry: ApiKeyRegistry,
    private readonly metrics: Metrics,
  ) {
    if (!config.operatorKey) throw new Error('the operator key must be set before the HTTP layer starts');
    this.operatorDigest = digest(config.operatorKey);
    this.previousOperatorDigest =
      config.operatorKeyPrevious === undefined ? undefined : digest(config.operatorKeyPrevious);
    this.rateLimit = new TenantRateLimit(config.rateLimitPerTenant, config.rateLimitBurst);
  }

  /** The caller found before the body was read, or found now. */
  principalOf(request: Request): Principal {
    return (request as AuthenticatedRequest)[AUTHENTICATED_KEY] ?? this.authenticate(request);
  }

  /**
   * Express middleware, before the body parsers: a request for a /v1 route is authenticated
   * before its body is read, so that a caller without a valid key learns nothing from how its body
   * is judged (415, 413, 400) and costs no decompression or parsing.
   */
  beforeBody(routes: RouteTable): (request: Request, response: Response, next: NextFunction) => void {
    return (request, _response, next) => {
      const route = routes.resolveRequest(request);
      if (route === undefined || !route.path.startsWith('/v1/') || !route.methods.includes(request.method)) {
        next();
        return;
      }
      try {
        const principal = this.authenticate(request);
        // A tenant past its rate costs no more than this: its body is not read.
        if (principal.kind === 'api-key') this.admit(principal.tenantId);
        (request as AuthenticatedRequest)[AUTHENTICATED_KEY] = principal;
        next();
      } catch (error) {
        next(error);
      }
    };
  }

  private admit(tenantId: string): void {
    try {
      this.rateLimit.admit(tenantId);
    } catch (error) {
      this.metrics.rateLimited.inc();
      throw error;
    }
  }

  private authenticate(request: Request): Principal {
    // Node keeps the first of several; a proxy in front may have judged another. One or none.
    if (authorizationFieldCount(request) > 1) {
      throw validationProblem([{ field: 'Authorization', message: 'must be sent once' }]);
    }
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    const secret = match?.[1];
    if (secret === undefined) throw unauthorized();
    const secretDigest = digest(secret);
    if (timingSafeEqual(secretDigest, this.operatorDigest)) return { kind: 'operator', id: 'operator' };
    if (this.previousOperatorDigest && timingSafeEqual(secretDigest, this.previousOperatorDigest)) {
      this.metrics.operatorKeyPreviousUses.inc();
      if (this.mayLogPreviousUse())
        this.logger.warn(
          'a request used the previous operator key (TENANCY_OPERATOR_KEY_PREVIOUS); unset it once no client does (tenancy_operator_key_previous_uses_total stays still; said at most once a minute)',
        );
      return { kind: 'operator', id: 'operator' };
    }
    if (!secret.startsWith(API_KEY_SECRET_PREFIX)) throw unauthorized();
    if (this.registry.unreadableEvent() !== undefined) {
      // Failing closed: the unread event may end this very key. Of that event nothing is told, as it
      // may be another tenant's.
      throw new ProblemError(
        problem(
          503,
          'EVENT_FROM_NEWER_VERSION',
          'Event from a newer version',
          'This instance cannot read an API key event a newer version of the service wrote, so it cannot tell whether this key still stands. Retry: an upgraded instance can serve this request.',
        ),
        { 'Retry-After': '5' },
      );
    }
    if (!this.registry.isReady()) {
      // Refusing would wrongly tell a client its valid key is bad; it only has to ask again.
      throw new ProblemError(
        problem(
          503,
          'KEYS_LOADING',
          'Keys loading',
          'This instance is still loading API keys; retry shortly.',
        ),
        { 'Retry-After': '1' },
      );
    }
    const key = this.registry.verify(secret);
    if (key === undefined) throw unauthorized();
    return { kind: 'api-key', ...key };
  }
}

function authorizationFieldCount(request: Request): number {
  let count = 0;
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    if (request.rawHeaders[index]!.toLowerCase() === 'authorization') count += 1;
  }
  return count;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

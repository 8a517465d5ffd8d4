import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG } from '../../infrastructure/tokens.js';
import type { AppConfig } from '../../config/app-config.js';
import { ProblemError, problem } from '../problem.js';
import { ACTOR_KEY, type Actor } from './actor.js';

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/**
 * Every /v1 route needs `Authorization: Bearer <key>`. Keys are compared as SHA-256 digests with a
 * constant-time comparison, so neither the key's content nor its length leaks through timing.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly operatorDigest: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    if (!config.operatorKey) throw new Error('the operator key must be set before the HTTP layer starts');
    this.operatorDigest = digest(config.operatorKey);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request & { [ACTOR_KEY]?: Actor }>();
    if (!request.path.startsWith('/v1/')) return true;
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match || !timingSafeEqual(digest(match[1] as string), this.operatorDigest)) {
      throw new ProblemError(
        problem(
          401,
          'UNAUTHORIZED',
          'Unauthorized',
          'Send a valid API key as "Authorization: Bearer <key>".',
        ),
        { 'WWW-Authenticate': 'Bearer realm="tenancy"' },
      );
    }
    request[ACTOR_KEY] = { kind: 'operator', id: 'operator' };
    return true;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

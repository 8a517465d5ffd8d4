import { AccessForbidden } from '../application/access/access-refusal.js';
import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ExceptionFilter,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Express, Request, Response } from 'express';
import { isDatabaseUnavailable, isStatementCancelled } from '../database/database-errors.js';
import { noteDatabaseRefusal } from '../database/database-refusals.js';
import { ConcurrencyError, EventStoreUnavailableError } from '../event-store/event-store.port.js';
import { InvalidPositionError } from '../event-store/position.js';
import { RevisionMismatchError } from '../application/commands/tenant-command.executor.js';
import { UnknownEventError } from '../stored-events/tenancy-event.codec.js';
import {
  ActingApiKeyInactive,
  TenancyRuleViolation,
  type TenancyErrorCode,
} from '../tenancy/tenancy.errors.js';
import {
  PROBLEM_CONTENT_TYPE,
  ProblemError,
  problem,
  unauthorized,
  validationProblem,
  type Problem,
} from './problem.js';
import { isUnsupportedCharset, unsupportedMediaType } from './json-body.js';
import { RouteTable } from './route-table.js';
import { sparingLog } from './sparing-log.js';
import { ACTOR_KEY, type Actor } from './auth/actor.js';

/** Where each rule of the domain lands in HTTP: missing 404, rule 409, invalid input 400. */
const RULE_STATUS: Record<TenancyErrorCode, number> = {
  VALIDATION_FAILED: HttpStatus.BAD_REQUEST,
  TENANT_NOT_FOUND: HttpStatus.NOT_FOUND,
  WORKSPACE_NOT_FOUND: HttpStatus.NOT_FOUND,
  TENANT_ALREADY_EXISTS: HttpStatus.CONFLICT,
  TENANT_NAME_TAKEN: HttpStatus.CONFLICT,
  TENANT_DELETING: HttpStatus.CONFLICT,
  WORKSPACE_NAME_TAKEN: HttpStatus.CONFLICT,
  WORKSPACE_DELETING: HttpStatus.CONFLICT,
  WORKSPACE_HAS_CHILDREN: HttpStatus.CONFLICT,
  ROOT_WORKSPACE_UNDELETABLE: HttpStatus.CONFLICT,
  WORKSPACE_ID_TAKEN: HttpStatus.CONFLICT,
  API_KEY_NOT_FOUND: HttpStatus.NOT_FOUND,
  API_KEY_ID_TAKEN: HttpStatus.CONFLICT,
  API_KEY_LIMIT_REACHED: HttpStatus.CONFLICT,
  MEMBER_NOT_FOUND: HttpStatus.NOT_FOUND,
  GROUP_NOT_FOUND: HttpStatus.NOT_FOUND,
  NOT_IN_GROUP: HttpStatus.NOT_FOUND,
  GRANT_NOT_FOUND: HttpStatus.NOT_FOUND,
  GROUP_NAME_TAKEN: HttpStatus.CONFLICT,
  GROUP_ID_TAKEN: HttpStatus.CONFLICT,
  GRANT_ID_TAKEN: HttpStatus.CONFLICT,
  GRANT_OF_API_KEY: HttpStatus.CONFLICT,
  LAST_ADMIN: HttpStatus.CONFLICT,
  PRECONDITION_FAILED: HttpStatus.PRECONDITION_FAILED,
  TENANT_SUSPENDED: HttpStatus.CONFLICT,
  WORKSPACE_MOVE_CYCLE: HttpStatus.CONFLICT,
  ROOT_WORKSPACE_IMMOVABLE: HttpStatus.CONFLICT,
  QUOTA_EXCEEDED: HttpStatus.CONFLICT,
};

const HTTP_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  412: 'REVISION_MISMATCH',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};

/** What a 503 for an unreachable database tells the client to wait before it retries. */
const DATABASE_RETRY_AFTER_SECONDS = 1;
/** ...and one for an event of a newer version: a rolling deployment takes a while to finish. */
const NEWER_EVENT_RETRY_AFTER_SECONDS = 5;

/** The one place where errors become HTTP answers. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');
  private readonly mayWarnUnavailable = sparingLog();
  private readonly mayWarnNewerEvent = sparingLog();

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    const [body, headers] = this.toProblem(exception, request);
    if (body.code === 'DATABASE_UNAVAILABLE') {
      this.warnUnavailable(exception);
    } else if (exception instanceof UnknownEventError) {
      this.warnNewerEvent(exception);
    } else if (body.status >= 500 && !(exception instanceof ProblemError)) {
      this.logger.error(
        `${request.method} ${request.originalUrl} failed: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`,
      );
    }
    if (response.headersSent) return;
    response
      .status(body.status)
      .set({ ...headers, 'Content-Type': PROBLEM_CONTENT_TYPE })
      .send(JSON.stringify(body));
  }

  /** An outage fails every request alike: one line every few seconds says so, without a stack. */
  private warnUnavailable(exception: unknown): void {
    noteDatabaseRefusal(exception);
    if (!this.mayWarnUnavailable()) return;
    this.logger.warn(
      `database unavailable, answering 503: ${exception instanceof Error ? exception.message : String(exception)}`,
    );
  }

  /**
   * Not a fault of this instance but of its age: one line every few seconds says which event it
   * cannot read, without a stack, until it is upgraded.
   */
  private warnNewerEvent(exception: UnknownEventError): void {
    if (!this.mayWarnNewerEvent()) return;
    this.logger.warn(`an event this version cannot read, answering 503: ${exception.message}`);
  }

  /** An unknown method on a known path: the methods its route does allow (405 instead of 404). */
  private methodsAllowedFor(exception: HttpException, request: Request): readonly string[] | undefined {
    if (exception.getStatus() !== 404 || !isRouteNotFound(exception)) return undefined;
    const express = this.adapterHost.httpAdapter.getInstance<Express>();
    const route = RouteTable.of(express).resolveRequest(request);
    return route && !route.methods.includes(request.method) ? route.methods : undefined;
  }

  /**
   * Express could not percent-decode a path parameter: a 400 naming the parameters at fault, like
   * every other VALIDATION_FAILED, rather than the first word of Express's message.
   */
  private undecodablePath(request: Request): Problem {
    const express = this.adapterHost.httpAdapter.getInstance<Express>();
    const params = RouteTable.of(express).resolveRequest(request)?.params ?? {};
    const fields = Object.entries(params)
      .filter(([, raw]) => !decodes(raw))
      .map(([name]) => name);
    return validationProblem(
      (fields.length > 0 ? fields : ['path']).map((field) => ({
        field,
        message: 'is not valid percent-encoding',
      })),
    ).problem;
  }

  private toProblem(exception: unknown, request: Request): [Problem, Record<string, string>] {
    if (exception instanceof ProblemError) return [exception.problem, exception.headers];
    if (exception instanceof AccessForbidden)
      return [problem(403, 'FORBIDDEN', 'Forbidden', exception.message), {}];
    if (exception instanceof ActingApiKeyInactive) {
      const { problem: body, headers } = unauthorized();
      return [body, headers];
    }
    if (exception instanceof TenancyRuleViolation) {
      const { invalid } = exception;
      if (isTenantWideCountFor(exception, request)) return [workspaceQuotaReached(), {}];
      return [
        problem(
          RULE_STATUS[exception.code],
          exception.code,
          titleOf(exception.code),
          exception.message,
          invalid === undefined
            ? exception.details
            : { ...exception.details, errors: [{ field: invalid.field, message: invalid.rule }] },
        ),
        {},
      ];
    }
    if (exception instanceof RevisionMismatchError) {
      return [
        problem(412, 'REVISION_MISMATCH', 'Revision mismatch', exception.message, {
          currentRevision: exception.actual ?? null,
        }),
        {},
      ];
    }
    if (exception instanceof ConcurrencyError) {
      return [
        problem(
          412,
          'REVISION_MISMATCH',
          'Revision mismatch',
          'The resource changed since the revision you sent; read it again.',
        ),
        {},
      ];
    }
    if (
      exception instanceof EventStoreUnavailableError ||
      isDatabaseUnavailable(exception) ||
      isStatementCancelled(exception)
    ) {
      // Nothing was acknowledged: an append is one statement, committed whole or not at all, so
      // the client may send the same request again (commands with client-chosen ids repeat safely).
      // A statement cancelled while it waited (behind a lock held on the log, say) is the same:
      // the database could not serve it now.
      return [
        problem(
          503,
          'DATABASE_UNAVAILABLE',
          'Database unavailable',
          'The database cannot serve this request right now; retry shortly.',
        ),
        { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
      ];
    }
    if (exception instanceof UnknownEventError) {
      // Nothing was appended: a command folds its stream before it decides. Another instance, of
      // the version that wrote the event, can serve the request.
      return [
        problem(
          503,
          'EVENT_FROM_NEWER_VERSION',
          'Event from a newer version',
          `The log holds an event this version of the service cannot read (${exception.reason} at position ${exception.recorded.position}); a newer version wrote it. Retry: an upgraded instance can serve this request.`,
        ),
        { 'Retry-After': String(NEWER_EVENT_RETRY_AFTER_SECONDS) },
      ];
    }
    if (exception instanceof InvalidPositionError) {
      return [problem(400, 'VALIDATION_FAILED', 'Validation failed', exception.message), {}];
    }
    // Nest hands body-parser's errors over wrapped in an HttpException.
    const parserError = exception instanceof HttpException ? exception.cause : exception;
    if (parserError instanceof URIError) return [this.undecodablePath(request), {}];
    if (isUnsupportedCharset(parserError)) {
      const { problem: body, headers } = unsupportedMediaType();
      return [body, headers];
    }
    if (exception instanceof HttpException && !isBodyParserError(parserError)) {
      const allowed = this.methodsAllowedFor(exception, request);
      if (allowed) {
        return [
          problem(
            405,
            'METHOD_NOT_ALLOWED',
            'Method not allowed',
            `${request.method} is not allowed here; use ${allowed.join(', ')}.`,
          ),
          { Allow: allowed.join(', ') },
        ];
      }
      return [fromHttpException(exception, request), {}];
    }
    if (isBodyParserError(parserError)) {
      const exception = parserError;
      return exception.status === 413
        ? [
            problem(
              413,
              'PAYLOAD_TOO_LARGE',
              'Payload too large',
              'The request body exceeds the size limit.',
            ),
            {},
          ]
        : exception.type === 'entity.parse.failed'
          ? [
              problem(400, 'MALFORMED_BODY', 'Malformed body', 'The request body is not well-formed JSON.'),
              {},
            ]
          : [problem(400, 'MALFORMED_BODY', 'Malformed body', unreadableBodyDetail(exception)), {}];
    }
    return [
      problem(
        500,
        'INTERNAL_ERROR',
        'Internal error',
        'The request could not be completed; it changed nothing unless a write response said so.',
      ),
      {},
    ];
  }
}

function decodes(raw: string): boolean {
  try {
    decodeURIComponent(raw);
    return true;
  } catch {
    return false;
  }
}

function errorMessage(exception: object): string {
  return exception instanceof Error ? exception.message : 'The request body could not be read.';
}

function fromHttpException(exception: HttpException, request: Request): Problem {
  const status = exception.getStatus();
  const response = exception.getResponse();
  if (status === 404 && isRouteNotFound(exception)) {
    return problem(404, 'ROUTE_NOT_FOUND', 'Not found', `No route ${request.method} ${request.path}`);
  }
  if (typeof response === 'object' && response !== null && 'code' in response) {
    return response as Problem;
  }
  const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
  const messages = Array.isArray(message)
    ? message.map((item) => String(item))
    : [typeof message === 'string' ? message : exception.message];
  const code = HTTP_CODES[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST');
  if (status === 400) {
    return problem(400, 'VALIDATION_FAILED', 'Validation failed', messages.join('; '), {
      errors: messages.map((text) => ({ field: text.split(' ')[0] ?? '', message: text })),
    });
  }
  return problem(status, code, titleOf(code), messages.join('; '));
}

/** Nest's own 404 for a path no route serves ("Cannot GET /x"), as opposed to a missing resource. */
function isRouteNotFound(exception: HttpException): boolean {
  const response = exception.getResponse();
  return (
    typeof response === 'object' && /Cannot \w+ /.test(String((response as { message?: unknown }).message))
  );
}

/**
 * A problem's title from its code: API_KEY_NOT_FOUND is "API key not found", WORKSPACE_ID_TAKEN
 * "Workspace ID taken".
 */
function titleOf(code: string): string {
  const words = code
    .toLowerCase()
    .split('_')
    .map((word) => (ACRONYMS.has(word) ? word.toUpperCase() : word))
    .join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
const ACRONYMS = new Set(['api', 'id']);

/**
 * The refusals of the body parser's verify hook are worded by this service (RefusedBodyError); the
 * rest come from reading the bytes (a stream that does not decompress has no type), in the words of
 * the decompressor or the reader, which are not the API's.
 */
function unreadableBodyDetail(exception: { type?: string }): string {
  switch (exception.type) {
    case 'entity.verify.failed':
      return errorMessage(exception);
    case undefined:
      return 'The request body does not decode as its Content-Encoding says.';
    default:
      return 'The request body could not be read.';
  }
}

/**
 * An error raised while reading the request body: body-parser's own (an `entity.*` type), or one it
 * passed on from below with a status of its own, as a Content-Encoding that does not decode (zlib's
 * "incorrect header check") or an aborted upload. Both are http-errors: a numeric status, `expose`.
 */
function isBodyParserError(exception: unknown): exception is { status: number; type?: string } {
  if (typeof exception !== 'object' || exception === null) return false;
  const { status, type, expose } = exception as { status?: unknown; type?: unknown; expose?: unknown };
  if (typeof status !== 'number') return false;
  return (
    (typeof type === 'string' && type.startsWith('entity.')) ||
    (typeof expose === 'boolean' && status === 400)
  );
}

/**
 * A workspace key sees nothing of its tenant beyond its subtree, the tenant's quotas included (403):
 * a refused creation tells it that the workspace quota is reached, not the limit and the count of
 * the tenant's workspaces, most of which lie outside its reach.
 */
function isTenantWideCountFor(exception: TenancyRuleViolation, request: Request): boolean {
  const actor = (request as Request & { [ACTOR_KEY]?: Actor })[ACTOR_KEY];
  return (
    exception.code === 'QUOTA_EXCEEDED' &&
    exception.details['quota'] === 'maxWorkspaces' &&
    actor?.kind === 'api-key' &&
    actor.workspaceId !== null
  );
}

function workspaceQuotaReached(): Problem {
  return problem(
    409,
    'QUOTA_EXCEEDED',
    titleOf('QUOTA_EXCEEDED'),
    "the tenant's quota maxWorkspaces is reached",
    {
      quota: 'maxWorkspaces',
    },
  );
}

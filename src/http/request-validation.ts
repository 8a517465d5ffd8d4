import {
  Injectable,
  ValidationPipe,
  type ArgumentMetadata,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type ValidationError,
} from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { ProblemError, validationProblem, type FieldError } from './problem.js';
import { minPositionFault } from './queries/min-position.header.js';
import { isApiRoute } from './route-table.js';

/**
 * Checks shape first, then bounds: of a property's failed constraints only the most basic kind is
 * reported, so `limit=abc` says "must be an integer number" instead of that plus two range messages
 * about a number that was never there. A missing required property "is required".
 */
const SHAPE_CONSTRAINTS = [
  'isString',
  'isInt',
  'isNumber',
  'isUuid',
  'isIn',
  'isBoolean',
  'isArray',
  'isObject',
  'eachIsObject',
];

/**
 * Keys class-transformer leaves out of the DTO it builds (it guards against prototype pollution),
 * so that the whitelist, which sees only the DTO, would let them through unremarked.
 */
const KEYS_LEFT_OUT = new Set(['__proto__', 'constructor']);

const ABSENT_BODY_READS_AS_EMPTY = new WeakSet<object>();

/** A query parameter sent more than once, which Express reads as a list. */
export const GIVEN_ONCE = 'must be given once';

/**
 * On a body DTO whose properties are all optional: a request with no body at all reads as `{}`, so
 * that `PUT /members/alice` needs none. A body that is there must still be an object.
 */
export function AbsentBodyReadsAsEmpty(): ClassDecorator {
  return (target) => {
    ABSENT_BODY_READS_AS_EMPTY.add(target);
  };
}

/** The one validation of request bodies and query strings into their DTOs. */
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      // Kept for fieldErrors' "is required", which tells an absent property by its value: by default
      // the pipe drops the value of every error with nested errors (`{"checks": {}}` read as absent).
      // Values never reach an answer: only field paths and messages do.
      validationError: { target: false, value: true },
      exceptionFactory: (errors) => validationProblem(errors.flatMap((error) => fieldErrors(error, ''))),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (
      value === undefined &&
      metadata.type === 'body' &&
      metadata.metatype !== undefined &&
      ABSENT_BODY_READS_AS_EMPTY.has(metadata.metatype)
    ) {
      value = {};
    }
    if (
      metadata.type === 'body' &&
      metadata.metatype !== undefined &&
      (typeof value !== 'object' || value === null || Array.isArray(value))
    ) {
      throw validationProblem([{ field: '(body)', message: 'must be a JSON object' }]);
    }
    if ((metadata.type === 'body' || metadata.type === 'query') && metadata.metatype !== undefined) {
      const leftOut = keysLeftOut(value, '');
      if (leftOut.length > 0) throw validationProblem(leftOut);
    }
    if (metadata.type === 'query' && metadata.metatype !== undefined) {
      return this.queryGivenOnce(value as Record<string, unknown>, metadata);
    }
    return super.transform(value, metadata);
  }

  /**
   * Every query parameter is a single value: one given twice (`?limit=1&limit=2`, which Express
   * reads as a list, where a proxy in front may read the first) is refused as such, together with
   * what the others break, instead of as a list that "must be an integer number". One the route
   * does not take stays "is not allowed", however often it is given.
   */
  private async queryGivenOnce(query: Record<string, unknown>, metadata: ArgumentMetadata): Promise<unknown> {
    const repeated = Object.keys(query).filter((key) => Array.isArray(query[key]));
    if (repeated.length === 0) return super.transform(query, metadata);
    const firsts = Object.fromEntries(
      Object.entries(query).map(([key, value]) => [
        key,
        Array.isArray(value) ? (value[0] as unknown) : value,
      ]),
    );
    let errors: readonly FieldError[] = [];
    try {
      await super.transform(firsts, metadata);
    } catch (error) {
      if (!(error instanceof ProblemError) || !error.problem.errors) throw error;
      errors = error.problem.errors;
    }
    const undeclared = new Set(
      errors.filter((error) => error.message === 'is not allowed').map((error) => error.field),
    );
    throw validationProblem([
      ...repeated.filter((field) => !undeclared.has(field)).map((field) => ({ field, message: GIVEN_ONCE })),
      ...errors.filter((error) => !repeated.includes(error.field) || undeclared.has(error.field)),
    ]);
  }
}

/**
 * The other half of the whitelist: a route that declares no query (no @Query DTO) takes no query
 * parameter, and one that declares no body takes none, or an empty object. The pipe above only
 * sees what a handler declares, so without this `?x=1` or `{"x":1}` sent to such a route passed
 * unremarked, where any route with a DTO refuses it.
 *
 * The same for `If-None-Match` on a write: a write handler that does not read it (with
 * `@Headers('if-none-match')`) cannot honour it, and a precondition ignored is a method performed
 * that the client asked not to be (RFC 9110 13.1.2), so it is refused instead. Reads answer it
 * with 304 wherever they send an ETag.
 *
 * And `Min-Position` on every route: a client may send the position of its last write with every
 * request (the answers that are always current, and the writes, include it already), but a value
 * that is not a position is refused wherever it is sent, as the reads that wait for it refuse it.
 * Ignored there, a client that sends `undefined` for a position it lost learnt of it only on
 * some routes.
 */
@Injectable()
export class UndeclaredInputInterceptor implements NestInterceptor {
  private readonly declaredByHandler = new WeakMap<object, DeclaredInputs>();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    if (!isApiRoute(request)) return next.handle();
    const declared = this.declaredInputs(context);
    const refused: FieldError[] = [];
    if (!declared.query) {
      refused.push(
        ...Object.keys(request.query ?? {}).map((field) => ({ field, message: 'is not allowed' })),
      );
    }
    const body: unknown = request.body;
    if (!declared.body && body !== undefined) {
      if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
        refused.push(...Object.keys(body).map((field) => ({ field, message: 'is not allowed' })));
      } else {
        refused.push({
          field: '(body)',
          message: 'must be absent or an empty object: this route takes no body',
        });
      }
    }
    if (
      !declared.ifNoneMatch &&
      request.headers['if-none-match'] !== undefined &&
      request.method !== 'GET' &&
      request.method !== 'HEAD'
    ) {
      refused.push({ field: 'If-None-Match', message: IF_NONE_MATCH_ON_WRITES });
    }
    const minPosition = minPositionFault(request);
    if (minPosition) refused.push(minPosition);
    if (refused.length > 0) throw validationProblem(refused);
    return next.handle();
  }

  private declaredInputs(context: ExecutionContext): DeclaredInputs {
    const handler = context.getHandler();
    let declared = this.declaredByHandler.get(handler);
    if (!declared) {
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ??
        {}) as Record<string, { data?: unknown }>;
      // Keyed `<param type>:<index>`; a header parameter's data is the header's name.
      const params = Object.entries(args).map(([key, arg]) => ({
        kind: Number(key.split(':')[0]),
        data: arg.data,
      }));
      const has = (kind: RouteParamtypes, data?: string) =>
        params.some((param) => param.kind === Number(kind) && (data === undefined || param.data === data));
      declared = {
        body: has(RouteParamtypes.BODY),
        query: has(RouteParamtypes.QUERY),
        ifNoneMatch: has(RouteParamtypes.HEADERS, 'if-none-match'),
      };
      this.declaredByHandler.set(handler, declared);
    }
    return declared;
  }
}

interface DeclaredInputs {
  readonly body: boolean;
  readonly query: boolean;
  readonly ifNoneMatch: boolean;
}

/** What a write does with If-None-Match, in the words of every refusal of it. */
export const IF_NONE_MATCH_ON_WRITES =
  'is taken on a write only as * on PUT of a member or a group member (add only)';

/** Every key of the request's value, at any depth (bodies are depth-limited), that KEYS_LEFT_OUT holds. */
function keysLeftOut(value: unknown, path: string): FieldError[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.keys(value).flatMap((key) => {
    const field = path === '' ? key : `${path}.${key}`;
    return KEYS_LEFT_OUT.has(key)
      ? [{ field, message: 'is not allowed' }]
      : keysLeftOut((value as Record<string, unknown>)[key], field);
  });
}

/** A property's errors, each named by its path from the top (`checks.1.principal.id`). */
function fieldErrors(error: ValidationError, parent: string): FieldError[] {
  const field = parent === '' ? error.property : `${parent}.${error.property}`;
  const constraints = error.constraints ?? {};
  const names = Object.keys(constraints);
  if (names.includes('whitelistValidation')) return [{ field, message: 'is not allowed' }];
  // Optional properties are skipped when absent, so an absent one that failed was required.
  if (error.value === undefined && names.length > 0) return [{ field, message: 'is required' }];
  const shape = names.filter((name) => SHAPE_CONSTRAINTS.includes(name));
  const reported = shape.length > 0 ? shape : names;
  const messages = reported.map((name) =>
    withoutProperty(constraints[name] ?? 'is not valid', error.property),
  );
  // A value of the wrong shape (an object for a list) says nothing useful about what is inside it.
  const inside = shape.length > 0 ? [] : (error.children ?? []).flatMap((child) => fieldErrors(child, field));
  return [...messages.map((message) => ({ field, message })), ...inside];
}

/** class-validator's messages start with the property's name, which `field` already carries. */
function withoutProperty(message: string, property: string): string {
  return message.startsWith(`${property} `) ? message.slice(property.length + 1) : message;
}

import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { validationProblem, type FieldError } from './problem.js';

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
];

/**
 * Keys class-transformer leaves out of the DTO it builds (it guards against prototype pollution),
 * so that the whitelist, which sees only the DTO, would let them through unremarked.
 */
const KEYS_LEFT_OUT = new Set(['__proto__', 'constructor']);

/** The one validation of request bodies and query strings into their DTOs. */
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      exceptionFactory: (errors) => validationProblem(errors.flatMap((error) => fieldErrors(error, ''))),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
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
    return super.transform(value, metadata);
  }
}

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
  return [
    ...messages.map((message) => ({ field, message })),
    ...(error.children ?? []).flatMap((child) => fieldErrors(child, field)),
  ];
}

/** class-validator's messages start with the property's name, which `field` already carries. */
function withoutProperty(message: string, property: string): string {
  return message.startsWith(`${property} `) ? message.slice(property.length + 1) : message;
}

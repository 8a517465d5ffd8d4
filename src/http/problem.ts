/**
 * Every error answer is application/problem+json (RFC 9457) with a stable `code` that clients can
 * branch on; `type` is derived from the code so the two never disagree.
 */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: string;
  readonly detail?: string;
  readonly errors?: readonly FieldError[];
  readonly [extension: string]: unknown;
}

/** One field (a path into a body or query, a parameter or a header) and what is wrong with it. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problem(
  status: number,
  code: string,
  title: string,
  detail?: string,
  extra: Record<string, unknown> = {},
): Problem {
  return {
    type: `urn:tenancy:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    title,
    status,
    code,
    ...(detail ? { detail } : {}),
    ...extra,
  };
}

/** An error that already knows its problem document; thrown by the HTTP layer. */
export class ProblemError extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail ?? problem.title);
    this.name = 'ProblemError';
  }
}

/**
 * 401: no key, an unknown or revoked one, or one that may no longer act (found out when its command
 * was decided). The same answer whatever the reason, so it tells nothing about a key.
 */
export function unauthorized(): ProblemError {
  return new ProblemError(
    problem(401, 'UNAUTHORIZED', 'Unauthorized', 'Send a valid API key as "Authorization: Bearer <key>".'),
    { 'WWW-Authenticate': 'Bearer realm="tenancy"' },
  );
}

/** 400 VALIDATION_FAILED naming each field at fault; the detail reads them one after another. */
export function validationProblem(errors: readonly FieldError[]): ProblemError {
  return new ProblemError(
    problem(
      400,
      'VALIDATION_FAILED',
      'Validation failed',
      `${errors.map((error) => `${error.field} ${error.message}`).join('; ')}.`,
      { errors },
    ),
  );
}

import { invalidField } from './tenancy.errors.js';

/**
 * A user is the subject id the caller's identity provider gave them: the service stores it as it is
 * (case matters: IdPs differ), so it must be safe in paths, logs and SQL literals without escaping
 * surprises. The characters cover OIDC subjects such as `auth0|5f7c…`, e-mail-like ids and URNs.
 */
export const MAX_USER_ID_LENGTH = 255;
/** A user id's whole form, as a regular expression's source (also the OpenAPI document's pattern). */
export const USER_ID_PATTERN = `^[A-Za-z0-9._:@|-]{1,${MAX_USER_ID_LENGTH}}$`;
const USER_ID = new RegExp(USER_ID_PATTERN);

export function isUserId(value: unknown): value is string {
  return typeof value === 'string' && USER_ID.test(value);
}

/** `field`: where the id came from, as an error names it (`adminUserId` in a tenant's creation). */
export function parseUserId(value: unknown, field = 'userId'): string {
  if (!isUserId(value)) {
    throw invalidField(field, 'must be 1 to 255 characters of A-Z, a-z, 0-9 and . _ : @ | -');
  }
  return value;
}

/**
 * An id given to a new member (or a tenant's first admin) must also be one a URL can carry: `.` and
 * `..` are dot segments, which clients resolve away (fetch does, for `%2E%2E` too), so a request
 * for member `..` reaches the tenant's path instead. Ids already in the log stay readable and
 * removable as they are.
 */
export function parseNewUserId(value: unknown, field = 'userId'): string {
  const userId = parseUserId(value, field);
  if (userId === '.' || userId === '..') {
    throw invalidField(field, 'must not be . or .. (a URL resolves them as path steps)');
  }
  return userId;
}

import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { isUserId } from '../../tenancy/user-id.js';
import { ProblemError, problem } from '../problem.js';

/** User ids in paths: the domain's own rule, checked before anything looks them up. */
@Injectable()
export class UserIdParamPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (!isUserId(value)) {
      const field = metadata.data ?? 'userId';
      throw new ProblemError(
        problem(
          400,
          'VALIDATION_FAILED',
          'Validation failed',
          `${field} must be 1 to 255 characters of A-Z, a-z, 0-9 and . _ : @ | -`,
          { errors: [{ field, message: 'is not a user id' }] },
        ),
      );
    }
    return value;
  }
}

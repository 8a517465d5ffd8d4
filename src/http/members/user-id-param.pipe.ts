import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { isUserId } from '../../tenancy/user-id.js';
import { validationProblem } from '../problem.js';

/** User ids in paths: the domain's own rule, checked before anything looks them up. */
@Injectable()
export class UserIdParamPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (!isUserId(value)) {
      // In the words the same rule has in a body (adminUserId, principal.id) and in the detail.
      throw validationProblem([
        {
          field: metadata.data ?? 'userId',
          message: 'must be 1 to 255 characters of A-Z, a-z, 0-9 and . _ : @ | -',
        },
      ]);
    }
    return value;
  }
}

import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { validationProblem } from './problem.js';
import { isUuid } from '../tenancy/uuid.js';

/** Ids in paths are UUIDs; any case is accepted and normalised to the lower case the domain stores. */
@Injectable()
export class UuidParamPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (!isUuid(value))
      throw validationProblem([{ field: metadata.data ?? 'id', message: 'must be a UUID' }]);
    return value.toLowerCase();
  }
}

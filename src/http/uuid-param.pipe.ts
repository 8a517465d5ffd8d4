import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ProblemError, problem } from './problem.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids in paths are UUIDs; any case is accepted and normalised to the lower case the domain stores. */
@Injectable()
export class UuidParamPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (typeof value !== 'string' || !UUID.test(value)) {
      throw new ProblemError(
        problem(400, 'VALIDATION_FAILED', 'Validation failed', `${metadata.data ?? 'id'} must be a UUID.`, {
          errors: [{ field: metadata.data ?? 'id', message: 'must be a UUID' }],
        }),
      );
    }
    return value.toLowerCase();
  }
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { MAX_CURSOR_LENGTH } from '../../application/queries/keyset-cursor.js';
import { StrictInteger } from '../strict-integer.transform.js';

/** Pages are capped: a client asking for more gets a validation error, not a slow answer. */
export const MAX_PAGE_SIZE = 500;

export class ListTenantsQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 100 })
  @IsOptional()
  @StrictInteger()
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({
    description: "The previous page's nextCursor",
    maxLength: MAX_CURSOR_LENGTH,
    pattern: '^[A-Za-z0-9_-]+$',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CURSOR_LENGTH)
  @Matches(/^[A-Za-z0-9_-]+$/)
  cursor?: string;
}

export class ListWorkspacesQueryDto extends ListTenantsQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: "Only this workspace's children; absent: every live workspace",
  })
  @IsOptional()
  @IsUUID('all')
  parentWorkspaceId?: string;
}

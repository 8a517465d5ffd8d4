import { IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { StrictInteger } from '../strict-integer.transform.js';

/** Pages are capped: a client asking for more gets a validation error, not a slow answer. */
export const MAX_PAGE_SIZE = 500;

export class ListTenantsQueryDto {
  @IsOptional()
  @StrictInteger()
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/)
  cursor?: string;
}

export class ListWorkspacesQueryDto extends ListTenantsQueryDto {
  @IsOptional()
  @IsUUID('all')
  parentWorkspaceId?: string;
}

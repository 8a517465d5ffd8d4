import { IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { StrictInteger } from '../strict-integer.transform.js';

/**
 * Shapes and bounds only: names are checked by the domain's own rules (resource-name.ts) so there is
 * one definition of a valid name. The length bound here just keeps absurd input away from it.
 */
const NAME_INPUT_LIMIT = 1_000;

export class CreateTenantRequestDto {
  @IsString()
  @MaxLength(NAME_INPUT_LIMIT)
  name!: string;

  @IsOptional()
  @IsUUID('all')
  tenantId?: string;

  /** The user the tenant starts with as its admin; the domain checks the id. */
  @IsOptional()
  @IsString()
  @MaxLength(NAME_INPUT_LIMIT)
  adminUserId?: string;
}

export class CreateWorkspaceRequestDto {
  @IsString()
  @MaxLength(NAME_INPUT_LIMIT)
  name!: string;

  @IsOptional()
  @IsUUID('all')
  parentWorkspaceId?: string;

  @IsOptional()
  @IsUUID('all')
  workspaceId?: string;
}

export class RenameWorkspaceRequestDto {
  @IsString()
  @MaxLength(NAME_INPUT_LIMIT)
  name!: string;
}

export class DeleteWorkspaceQueryDto {
  @IsOptional()
  @IsIn(['true', 'false'])
  cascade?: 'true' | 'false';
}

export class TenantEventsQueryDto {
  /** The revision after which to start; absent: from the first event. */
  @IsOptional()
  @StrictInteger()
  @IsInt()
  @Min(-1)
  @Max(Number.MAX_SAFE_INTEGER)
  after?: number;

  @IsOptional()
  @StrictInteger()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

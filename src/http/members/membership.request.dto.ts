import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import type { PrincipalType, Role } from '../../tenancy/membership.events.js';
import { PERMISSIONS, type Permission } from '../../tenancy/permissions.js';
import { ListTenantsQueryDto } from '../queries/list-query.dto.js';

/** Shapes and bounds only: names and user ids are checked by the domain's own rules. */
const NAME_INPUT_LIMIT = 1_000;
/** The characters a principal id may have at all (user ids, UUIDs); the domain checks the rest. */
const PRINCIPAL_ID = /^[A-Za-z0-9._:@|-]{1,255}$/;
const PRINCIPAL_TYPES: readonly PrincipalType[] = ['user', 'group', 'apiKey'];
const ROLES: readonly Role[] = ['viewer', 'editor', 'admin'];
const PERMISSION_NAMES = Object.keys(PERMISSIONS) as Permission[];

/** Most checks one request may carry. */
export const MAX_CHECKS = 1_000;

export class PutMemberRequestDto {
  /** Absent: leave the display name as it is; null: clear it. */
  @IsOptional()
  @IsString()
  @MaxLength(NAME_INPUT_LIMIT)
  displayName?: string | null;
}

export class CreateGroupRequestDto {
  @IsString()
  @MaxLength(NAME_INPUT_LIMIT)
  name!: string;

  @IsOptional()
  @IsUUID('all')
  groupId?: string;
}

export class RenameGroupRequestDto {
  @IsString()
  @MaxLength(NAME_INPUT_LIMIT)
  name!: string;
}

export class PrincipalDto {
  @IsIn(PRINCIPAL_TYPES)
  type!: PrincipalType;

  @IsString()
  @Matches(PRINCIPAL_ID, { message: 'id must be 1 to 255 characters of A-Z, a-z, 0-9 and . _ : @ | -' })
  id!: string;
}

export class GrantRoleRequestDto {
  @IsDefined()
  @ValidateNested()
  @Type(() => PrincipalDto)
  principal!: PrincipalDto;

  @IsIn(ROLES)
  role!: Role;

  /** Absent: the whole tenant. */
  @IsOptional()
  @IsUUID('all')
  workspaceId?: string;
}

export class ListGrantsQueryDto extends ListTenantsQueryDto {
  @IsOptional()
  @IsIn(PRINCIPAL_TYPES)
  principalType?: PrincipalType;

  @IsOptional()
  @IsString()
  @Matches(PRINCIPAL_ID)
  principalId?: string;

  @IsOptional()
  @IsUUID('all')
  workspaceId?: string;
}

export class PermissionCheckDto {
  @IsDefined()
  @ValidateNested()
  @Type(() => PrincipalDto)
  principal!: PrincipalDto;

  @IsIn(PERMISSION_NAMES)
  permission!: Permission;

  /** Absent: on the tenant as a whole. */
  @IsOptional()
  @IsUUID('all')
  workspaceId?: string;
}

/** One check (`principal`, `permission`, `workspaceId?`) or a batch (`checks`), not both. */
export class PermissionCheckRequestDto {
  @ValidateIf((body: PermissionCheckRequestDto) => body.checks === undefined)
  @IsDefined()
  @ValidateNested()
  @Type(() => PrincipalDto)
  principal?: PrincipalDto;

  @ValidateIf((body: PermissionCheckRequestDto) => body.checks === undefined)
  @IsIn(PERMISSION_NAMES)
  permission?: Permission;

  @IsOptional()
  @IsUUID('all')
  workspaceId?: string;

  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_CHECKS)
  @ValidateNested({ each: true })
  @Type(() => PermissionCheckDto)
  checks?: PermissionCheckDto[];
}

export class PrincipalWorkspacesQueryDto extends ListTenantsQueryDto {
  @IsIn(PERMISSION_NAMES)
  permission!: Permission;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  isObject,
  ValidateBy,
  ValidateIf,
  ValidateNested,
  type ValidationArguments,
} from 'class-validator';
import type { PrincipalType, Role } from '../../tenancy/membership.events.js';
import { PERMISSIONS, type Permission } from '../../tenancy/permissions.js';
import { USER_ID_PATTERN } from '../../tenancy/user-id.js';
import { isUuid } from '../../tenancy/uuid.js';
import { ListTenantsQueryDto } from '../queries/list-query.dto.js';
import { AbsentBodyReadsAsEmpty } from '../request-validation.js';

/**
 * Every item of a list is an object (IsArray reports a value that is no list): ValidateNested takes
 * an array for an object and checks nothing inside it, and words a number or a string its own way.
 */
function EachIsObject(): PropertyDecorator {
  return ValidateBy({
    name: 'eachIsObject',
    validator: {
      validate: (value: unknown) => !Array.isArray(value) || value.every((item) => isObject(item)),
      defaultMessage: () => 'must be a list of objects',
    },
  });
}

// Shapes only: names and user ids are checked by the domain's own rules, in its words whatever the
// length (the body's size bound caps the input).

/** The characters a principal id may have at all (user ids, UUIDs); the domain checks the rest. */
const PRINCIPAL_ID = new RegExp(USER_ID_PATTERN);
/** Its rule in words, for the body's principal.id and the grants filter's principalId alike. */
const PRINCIPAL_ID_RULE = {
  message: ({ property }: ValidationArguments) =>
    `${property} must be 1 to 255 characters of A-Z, a-z, 0-9 and . _ : @ | -`,
};
const PRINCIPAL_TYPES: readonly PrincipalType[] = ['user', 'group', 'apiKey'];

/** What a principal id must be for its type, in words, wherever a principal id is read. */
export const PRINCIPAL_UUID_MESSAGE = 'must be a UUID for a group or an API key';

/** A group's or an API key's id is a UUID; a user's is checked by the domain's rules. */
export function isPrincipalIdOfType(type: unknown, id: unknown): boolean {
  return (type !== 'group' && type !== 'apiKey') || isUuid(id);
}

/**
 * The id is a UUID when the principal type (the sibling property `typeProperty`) is a group or an
 * API key: a malformed one is refused as input, not looked up and found unknown.
 */
function IsPrincipalIdOfItsType(typeProperty: string): PropertyDecorator {
  return ValidateBy({
    name: 'isPrincipalIdOfItsType',
    validator: {
      validate: (id: unknown, args?: ValidationArguments) =>
        isPrincipalIdOfType((args?.object as Record<string, unknown> | undefined)?.[typeProperty], id),
      defaultMessage: () => PRINCIPAL_UUID_MESSAGE,
    },
  });
}
const ROLES: readonly Role[] = ['viewer', 'editor', 'admin'];
const PERMISSION_NAMES = Object.keys(PERMISSIONS) as Permission[];

/** Most checks one request may carry. */
export const MAX_CHECKS = 1_000;

@AbsentBodyReadsAsEmpty()
export class PutMemberRequestDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 200,
    description: 'How to show the member. Absent: leave it as it is; null: clear it.',
  })
  @IsOptional()
  @IsString()
  displayName?: string | null;
}

export class CreateGroupRequestDto {
  @ApiProperty({
    maxLength: 200,
    description: "Unique among the tenant's groups, case-insensitively",
    example: 'Operations',
  })
  @IsString()
  name!: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Absent: a new id. The same id and name again is a no-op (200).',
  })
  @IsOptional()
  @IsUUID('all')
  groupId?: string;
}

export class RenameGroupRequestDto {
  @ApiProperty({ maxLength: 200 })
  @IsString()
  name!: string;
}

export class PrincipalDto {
  @ApiProperty({ enum: PRINCIPAL_TYPES })
  @IsIn(PRINCIPAL_TYPES)
  type!: PrincipalType;

  @ApiProperty({ description: 'A user id (subject id, 1 to 255 characters), or a group or API key UUID' })
  @IsString()
  @Matches(PRINCIPAL_ID, PRINCIPAL_ID_RULE)
  @IsPrincipalIdOfItsType('type')
  id!: string;
}

export class GrantRoleRequestDto {
  @ApiProperty({ type: () => PrincipalDto })
  @IsDefined()
  // An array is an object to ValidateNested, which then checks nothing inside it.
  @IsObject()
  @ValidateNested()
  @Type(() => PrincipalDto)
  principal!: PrincipalDto;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'The workspace (and its subtree). Absent: the whole tenant.',
  })
  @IsOptional()
  @IsUUID('all')
  workspaceId?: string;
}

export class ListGrantsQueryDto extends ListTenantsQueryDto {
  @ApiPropertyOptional({ enum: PRINCIPAL_TYPES })
  @IsOptional()
  @IsIn(PRINCIPAL_TYPES)
  principalType?: PrincipalType;

  @ApiPropertyOptional({
    description: 'Only grants of the principal with this id (of any type unless principalType says which)',
  })
  @IsOptional()
  @IsString()
  @Matches(PRINCIPAL_ID, PRINCIPAL_ID_RULE)
  @IsPrincipalIdOfItsType('principalType')
  principalId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only grants on this workspace' })
  @IsOptional()
  @IsUUID('all')
  workspaceId?: string;
}

export class PermissionCheckDto {
  @ApiProperty({ type: () => PrincipalDto })
  @IsDefined()
  // An array is an object to ValidateNested, which then checks nothing inside it.
  @IsObject()
  @ValidateNested()
  @Type(() => PrincipalDto)
  principal!: PrincipalDto;

  @ApiProperty({ enum: PERMISSION_NAMES })
  @IsIn(PERMISSION_NAMES)
  permission!: Permission;

  @ApiPropertyOptional({ format: 'uuid', description: 'Absent: on the tenant as a whole' })
  @IsOptional()
  @IsUUID('all')
  workspaceId?: string;
}

/** One check (`principal`, `permission`, `workspaceId?`) or a batch (`checks`), not both. */
export class PermissionCheckRequestDto {
  @ApiPropertyOptional({ type: () => PrincipalDto, description: 'One check (not with `checks`)' })
  @ValidateIf((body: PermissionCheckRequestDto) => body.checks === undefined)
  @IsDefined()
  // An array is an object to ValidateNested, which then checks nothing inside it.
  @IsObject()
  @ValidateNested()
  @Type(() => PrincipalDto)
  principal?: PrincipalDto;

  @ApiPropertyOptional({ enum: PERMISSION_NAMES })
  @ValidateIf((body: PermissionCheckRequestDto) => body.checks === undefined)
  @IsIn(PERMISSION_NAMES)
  permission?: Permission;

  @ApiPropertyOptional({ format: 'uuid', description: 'Absent: on the tenant as a whole' })
  @IsOptional()
  @IsUUID('all')
  workspaceId?: string;

  @ApiPropertyOptional({
    type: () => [PermissionCheckDto],
    maxItems: MAX_CHECKS,
    description: 'A batch of checks',
  })
  // null is no batch and no single check either: it is refused as a list, not passed as absent.
  @ValidateIf((body: PermissionCheckRequestDto) => body.checks !== undefined)
  @IsArray()
  @ArrayMinSize(1, { message: 'checks must hold at least one check' })
  @ArrayMaxSize(MAX_CHECKS, { message: `checks must hold at most ${MAX_CHECKS} checks` })
  @EachIsObject()
  @ValidateNested({ each: true })
  @Type(() => PermissionCheckDto)
  checks?: PermissionCheckDto[];
}

export class PrincipalWorkspacesQueryDto extends ListTenantsQueryDto {
  @ApiProperty({ enum: PERMISSION_NAMES })
  @IsIn(PERMISSION_NAMES)
  permission!: Permission;
}

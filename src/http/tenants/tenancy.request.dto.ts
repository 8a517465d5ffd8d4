import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Max, Min } from 'class-validator';
import { MAX_NAME_LENGTH } from '../../tenancy/resource-name.js';
import { QUOTA_CEILINGS } from '../../tenancy/quotas.js';
import { StrictInteger } from '../strict-integer.transform.js';

/**
 * Shapes only: names, reasons and user ids are checked by the domain's own rules (resource-name.ts,
 * user-id.ts), which measure a name after trimming, so there is one definition of each and one
 * wording of its refusal, whatever the length. The body's size bound (json-body.ts) caps the input.
 */
const NAME = {
  description: `1 to ${MAX_NAME_LENGTH} characters after trimming; no control characters, line breaks, bidirectional controls or invisible characters such as zero-width spaces`,
  maxLength: MAX_NAME_LENGTH,
  example: 'Acme',
} as const;

export class CreateTenantRequestDto {
  @ApiProperty(NAME)
  @IsString()
  name!: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Absent: a new id is generated. The same id and name again is a no-op (200).',
  })
  @IsOptional()
  @IsUUID('all')
  tenantId?: string;

  @ApiPropertyOptional({
    description:
      "The user the tenant starts with: a member with an admin grant on the whole tenant. The caller's identity provider's subject id, 1 to 255 characters of A-Z, a-z, 0-9 and . _ : @ | -, but not . or .. (a URL resolves them as path steps).",
    maxLength: 255,
    example: 'auth0|5f7c8ec7c33c6c004bbafe82',
  })
  @IsOptional()
  @IsString()
  adminUserId?: string;
}

export class CreateWorkspaceRequestDto {
  @ApiProperty(NAME)
  @IsString()
  name!: string;

  @ApiPropertyOptional({ format: 'uuid', description: "Absent: directly under the tenant's root workspace." })
  @IsOptional()
  @IsUUID('all')
  parentWorkspaceId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Absent: a new id is generated.' })
  @IsOptional()
  @IsUUID('all')
  workspaceId?: string;
}

export class RenameWorkspaceRequestDto {
  @ApiProperty(NAME)
  @IsString()
  name!: string;
}

export class DeleteWorkspaceQueryDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'true: delete the whole subtree in the background (202).',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  cascade?: 'true' | 'false';
}

export class TenantEventsQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: -1,
    description:
      "The revision after which to start; absent: from the first event. One after the stream's last revision is 400.",
  })
  @IsOptional()
  @StrictInteger()
  @IsInt()
  @Min(-1)
  @Max(Number.MAX_SAFE_INTEGER)
  after?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @StrictInteger()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class RenameTenantRequestDto {
  @ApiProperty({ ...NAME, description: `${NAME.description}; unique among tenants, case-insensitively` })
  @IsString()
  name!: string;
}

export class SuspendTenantRequestDto {
  @ApiProperty({
    description:
      'Why (shown to operators and in the audit trail): 1 to 500 characters, one line, no bidirectional controls or invisible characters',
    maxLength: 500,
    example: 'Invoices unpaid since March',
  })
  @IsString()
  reason!: string;
}

const QUOTA_LIMIT = (meaning: string, maximum: number) =>
  ({
    type: 'integer',
    minimum: 0,
    maximum,
    nullable: true,
    description: `${meaning}. Absent or null: the configured default.`,
  }) as const;

/** PUT replaces the tenant's own quotas: each one absent or null follows the configured default. */
export class SetTenantQuotasRequestDto {
  @ApiPropertyOptional(
    QUOTA_LIMIT('Workspaces not yet deleted, the root included', QUOTA_CEILINGS.maxWorkspaces),
  )
  @IsOptional()
  @IsInt()
  maxWorkspaces?: number | null;

  @ApiPropertyOptional(
    QUOTA_LIMIT('Deepest level a workspace may be at (the root is at 0)', QUOTA_CEILINGS.maxDepth),
  )
  @IsOptional()
  @IsInt()
  maxDepth?: number | null;

  @ApiPropertyOptional(QUOTA_LIMIT('Active API keys', QUOTA_CEILINGS.maxApiKeys))
  @IsOptional()
  @IsInt()
  maxApiKeys?: number | null;

  @ApiPropertyOptional(QUOTA_LIMIT('Members', QUOTA_CEILINGS.maxMembers))
  @IsOptional()
  @IsInt()
  maxMembers?: number | null;

  @ApiPropertyOptional(QUOTA_LIMIT('Groups', QUOTA_CEILINGS.maxGroups))
  @IsOptional()
  @IsInt()
  maxGroups?: number | null;
}

export class MoveWorkspaceRequestDto {
  @ApiProperty({
    format: 'uuid',
    description: 'The new parent; the workspace takes its whole subtree along.',
  })
  @IsUUID('all')
  parentWorkspaceId!: string;
}

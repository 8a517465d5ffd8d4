import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { MAX_NAME_LENGTH } from '../../tenancy/resource-name.js';

/** Shapes and bounds only: the name is checked by the domain's own rules, like every name. */
export class IssueApiKeyRequestDto {
  @ApiProperty({ enum: ['admin', 'reader'] })
  @IsIn(['admin', 'reader'])
  role!: 'admin' | 'reader';

  @ApiPropertyOptional({ format: 'uuid', description: 'Absent: a key for the whole tenant.' })
  @IsOptional()
  @IsUUID('all')
  workspaceId?: string;

  @ApiPropertyOptional({ maxLength: MAX_NAME_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_NAME_LENGTH)
  name?: string;
}

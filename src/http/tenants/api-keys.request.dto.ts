import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID } from 'class-validator';
import { MAX_NAME_LENGTH } from '../../tenancy/resource-name.js';

/** Shapes only: the name is checked by the domain's own rules, like every name. */
export class IssueApiKeyRequestDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'Absent: a new id. Chosen by the client, a retry after a lost answer is safe: if the first ' +
      'attempt was recorded, the retry is refused with 409 API_KEY_ID_TAKEN (the secret is shown only ' +
      'once), and that key can be revoked by its id and another issued.',
  })
  @IsOptional()
  @IsUUID('all')
  apiKeyId?: string;

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
  name?: string;
}

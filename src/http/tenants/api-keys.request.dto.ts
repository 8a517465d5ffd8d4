import { IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';

/** Shapes and bounds only: the name is checked by the domain's own rules, like every name. */
export class IssueApiKeyRequestDto {
  @IsIn(['admin', 'reader'])
  role!: 'admin' | 'reader';

  /** Absent: a key for the whole tenant. */
  @IsOptional()
  @IsUUID('all')
  workspaceId?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1_000)
  name?: string;
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { StrictInteger } from '../strict-integer.transform.js';

/** The selection both the page and the stream endpoints accept. */
class EventSelectionQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: "Only this tenant's events (required for a tenant's key)",
  })
  @IsOptional()
  @IsUUID('all')
  tenantId?: string;

  /** Comma-separated event types; checked against the known types by the controller. */
  @ApiPropertyOptional({
    description: 'Comma-separated event types, e.g. TenantCreated,WorkspaceCreated',
    maxLength: 1_000,
  })
  @IsOptional()
  @IsString()
  @MaxLength(1_000)
  types?: string;
}

export class EventFeedQueryDto extends EventSelectionQueryDto {
  /** Exclusive: the page starts after this position. Absent: from the start of the log. */
  @ApiPropertyOptional({
    description: "A position (exclusive): the previous page's next; one after the log's last event is 400",
  })
  @IsOptional()
  @IsString()
  after?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @StrictInteger()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class EventStreamQueryDto extends EventSelectionQueryDto {
  /** A position (exclusive), 'start' or 'end'; a Last-Event-ID header takes precedence. */
  @ApiPropertyOptional({
    description:
      "A position (exclusive), 'start' or 'end'; Last-Event-ID takes precedence; a position after the log's last event is 400",
  })
  @IsOptional()
  @IsString()
  from?: string;
}

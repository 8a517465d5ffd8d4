import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';

/** The selection both the page and the stream endpoints accept. */
class EventSelectionQueryDto {
  @IsOptional()
  @IsUUID('all')
  tenantId?: string;

  /** Comma-separated event types; checked against the known types by the controller. */
  @IsOptional()
  @IsString()
  @MaxLength(1_000)
  types?: string;
}

export class EventFeedQueryDto extends EventSelectionQueryDto {
  /** Exclusive: the page starts after this position. Absent: from the start of the log. */
  @IsOptional()
  @IsString()
  after?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class EventStreamQueryDto extends EventSelectionQueryDto {
  /** A position (exclusive), 'start' or 'end'; a Last-Event-ID header takes precedence. */
  @IsOptional()
  @IsString()
  from?: string;
}

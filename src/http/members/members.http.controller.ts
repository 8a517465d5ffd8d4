import {
  Body,
  Controller,
  Delete,
  Get,
  Inject,
  Param,
  Put,
  Query,
  Req,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { CLOCK, type Clock } from '../../application/clock.js';
import { AddMemberCommand, RemoveMemberCommand } from '../../application/membership/member.commands.js';
import {
  MembershipQueries,
  type MemberDetailView,
  type MemberView,
  type Page,
} from '../../application/membership/membership.queries.js';
import { fromParam, Requires } from '../auth/requires.decorator.js';
import { ListTenantsQueryDto } from '../queries/list-query.dto.js';
import { MinPositionInterceptor } from '../queries/min-position.interceptor.js';
import { commandContextOf } from '../request-context.js';
import { UuidParamPipe } from '../uuid-param.pipe.js';
import { sendWrite } from '../write-response.js';
import { PutMemberRequestDto } from './membership.request.dto.js';
import { UserIdParamPipe } from './user-id-param.pipe.js';

const DEFAULT_PAGE_SIZE = 100;
const TENANT = { tenantId: fromParam('tenantId') };

/** The tenant's members: users known by the subject id their identity provider gave them. */
@Controller('v1/tenants/:tenantId/members')
export class MembersHttpController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: MembershipQueries,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Put(':userId')
  @Requires('member:manage', TENANT)
  async put(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('userId', UserIdParamPipe) userId: string,
    @Body() body: PutMemberRequestDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new AddMemberCommand(tenantId, userId, body.displayName, commandContextOf(request, this.clock)),
    );
    response.setHeader('Location', `/v1/tenants/${tenantId}/members/${encodeURIComponent(userId)}`);
    return sendWrite(response, result, result.changed ? 201 : 200);
  }

  @Delete(':userId')
  @Requires('member:manage', TENANT)
  async remove(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('userId', UserIdParamPipe) userId: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const result = await this.commands.execute(
      new RemoveMemberCommand(tenantId, userId, commandContextOf(request, this.clock)),
    );
    sendWrite(response, result, 204);
  }

  @Get()
  @Requires('member:read', TENANT)
  @UseInterceptors(MinPositionInterceptor)
  list(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Query() query: ListTenantsQueryDto,
  ): Promise<Page<MemberView>> {
    return this.queries.members(tenantId, query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
  }

  @Get(':userId')
  @Requires('member:read', TENANT)
  @UseInterceptors(MinPositionInterceptor)
  get(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('userId', UserIdParamPipe) userId: string,
  ): Promise<MemberDetailView> {
    return this.queries.member(tenantId, userId);
  }
}

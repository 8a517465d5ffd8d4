import {
  Body,
  Controller,
  Delete,
  Get,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { CLOCK, type Clock } from '../../application/clock.js';
import { GrantRoleCommand, RevokeRoleCommand } from '../../application/membership/grant.commands.js';
import {
  MembershipQueries,
  type GrantView,
  type Page,
} from '../../application/membership/membership.queries.js';
import { READ_SCOPE_KEY, type RequestReadScope } from '../auth/actor.js';
import { fromBody, fromParam, Requires } from '../auth/requires.decorator.js';
import { MinPositionInterceptor } from '../queries/min-position.interceptor.js';
import { commandContextOf } from '../request-context.js';
import { UuidParamPipe } from '../uuid-param.pipe.js';
import { sendWrite } from '../write-response.js';
import { GrantRoleRequestDto, ListGrantsQueryDto } from './membership.request.dto.js';
import { principalOf } from './principal.js';

const DEFAULT_PAGE_SIZE = 100;

/** Roles granted to members, groups and API keys on the tenant or on a workspace subtree. */
@Controller('v1/tenants/:tenantId/grants')
export class GrantsHttpController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: MembershipQueries,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  @Requires('grant:manage', { tenantId: fromParam('tenantId'), workspaceId: fromBody('workspaceId') })
  async grant(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Body() body: GrantRoleRequestDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new GrantRoleCommand(
        tenantId,
        principalOf(body.principal.type, body.principal.id),
        body.role,
        body.workspaceId?.toLowerCase() ?? null,
        commandContextOf(request, this.clock),
      ),
    );
    response.setHeader('Location', `/v1/tenants/${tenantId}/grants/${result.body.grantId}`);
    return sendWrite(response, result, result.changed ? 201 : 200);
  }

  @Delete(':grantId')
  @Requires('grant:manage', { tenantId: fromParam('tenantId'), grantId: fromParam('grantId') })
  async revoke(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('grantId', UuidParamPipe) grantId: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const result = await this.commands.execute(
      new RevokeRoleCommand(tenantId, grantId, commandContextOf(request, this.clock)),
    );
    sendWrite(response, result, 204);
  }

  @Get()
  @Requires('grant:read', {
    tenantId: fromParam('tenantId'),
    workspaceId: { in: 'query', name: 'workspaceId' },
  })
  @UseInterceptors(MinPositionInterceptor)
  list(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Query() query: ListGrantsQueryDto,
    @Req() request: Request,
  ): Promise<Page<GrantView>> {
    const scope = (request as Request & { [READ_SCOPE_KEY]?: RequestReadScope })[READ_SCOPE_KEY];
    const principal =
      query.principalType !== undefined && query.principalId !== undefined
        ? principalOf(query.principalType, query.principalId)
        : undefined;
    return this.queries.grants(
      tenantId,
      {
        ...(query.principalType === undefined ? {} : { principalType: query.principalType }),
        ...(query.principalId === undefined ? {} : { principalId: principal?.id ?? query.principalId }),
        ...(query.workspaceId === undefined ? {} : { workspaceId: query.workspaceId.toLowerCase() }),
        ...(scope?.subtree ? { withinSubtreeOf: scope.subtree } : {}),
      },
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.cursor,
    );
  }
}

import { Body, Controller, Delete, Get, Headers, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiIfMatch,
  ApiJson,
  ApiNoContent,
  ApiRoute,
  ApiUuidParam,
  ETAG_HEADER,
} from '../openapi/api-docs.decorators.js';
import { pageOf } from '../openapi/api-schemas.js';
import { GRANT_SCHEMA, GRANT_WRITTEN_SCHEMA } from './membership.api-schemas.js';
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
import { ReadModelRoute } from '../queries/min-position.interceptor.js';
import { commandContextOf } from '../request-context.js';
import { UuidParamPipe } from '../uuid-param.pipe.js';
import { ifMatchRevisionsOf, sendWrite } from '../write-response.js';
import { GrantRoleRequestDto, ListGrantsQueryDto } from './membership.request.dto.js';
import { principalIdsMatching, principalOf } from './principal.js';

const DEFAULT_PAGE_SIZE = 100;

const GRANT_LOCATION = 'The grant: GET reads it, DELETE revokes it';

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
  @ApiRoute('grants', 'Grant a role on the tenant or on a workspace and its subtree', {
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH'],
    404: [
      'TENANT_NOT_FOUND',
      'WORKSPACE_NOT_FOUND',
      'MEMBER_NOT_FOUND',
      'GROUP_NOT_FOUND',
      'API_KEY_NOT_FOUND',
    ],
    // Not GRANT_ID_TAKEN: the service picks a new grant's id, the body cannot name one.
    409: ['LAST_ADMIN', 'GRANT_OF_API_KEY', 'WORKSPACE_DELETING', 'TENANT_SUSPENDED', 'TENANT_DELETING'],
  })
  @ApiUuidParam('tenantId')
  @ApiJson(
    201,
    'Granted (replacing another role of the principal on that scope, if any)',
    GRANT_WRITTEN_SCHEMA,
    {
      ...ETAG_HEADER,
      Location: GRANT_LOCATION,
    },
  )
  @ApiJson(200, 'The principal already holds this role there: the existing grant', GRANT_WRITTEN_SCHEMA, {
    ...ETAG_HEADER,
    Location: GRANT_LOCATION,
  })
  @ApiIfMatch()
  async grant(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Body() body: GrantRoleRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new GrantRoleCommand(
        tenantId,
        principalOf(body.principal.type, body.principal.id),
        body.role,
        body.workspaceId?.toLowerCase() ?? null,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    response.setHeader('Location', `/v1/tenants/${tenantId}/grants/${result.body.grantId}`);
    return sendWrite(response, result, result.changed ? 201 : 200);
  }

  @Get(':grantId')
  @Requires('grant:read', { tenantId: fromParam('tenantId') })
  @ReadModelRoute('grants', 'One active grant (read model); a workspace key sees those on its subtree', [
    'TENANT_NOT_FOUND',
    'GRANT_NOT_FOUND',
  ])
  @ApiUuidParam('tenantId')
  @ApiUuidParam('grantId')
  @ApiJson(200, 'The grant', GRANT_SCHEMA)
  get(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('grantId', UuidParamPipe) grantId: string,
    @Req() request: Request,
  ): Promise<GrantView> {
    const scope = (request as Request & { [READ_SCOPE_KEY]?: RequestReadScope })[READ_SCOPE_KEY];
    return this.queries.grant(tenantId, grantId, scope?.subtree ?? undefined);
  }

  @Delete(':grantId')
  @Requires('grant:manage', { tenantId: fromParam('tenantId'), grantId: fromParam('grantId') })
  @ApiRoute('grants', 'Revoke a grant', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH'],
    404: ['TENANT_NOT_FOUND', 'GRANT_NOT_FOUND'],
    409: ['LAST_ADMIN', 'GRANT_OF_API_KEY', 'TENANT_SUSPENDED', 'TENANT_DELETING'],
  })
  @ApiUuidParam('tenantId')
  @ApiUuidParam('grantId')
  @ApiNoContent('Revoked')
  @ApiIfMatch()
  async revoke(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('grantId', UuidParamPipe) grantId: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const result = await this.commands.execute(
      new RevokeRoleCommand(
        tenantId,
        grantId,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    sendWrite(response, result, 204);
  }

  @Get()
  @Requires('grant:read', {
    tenantId: fromParam('tenantId'),
    workspaceId: { in: 'query', name: 'workspaceId' },
  })
  @ReadModelRoute('grants', "The tenant's active grants (read model), API keys' own roles included", [
    'TENANT_NOT_FOUND',
    'WORKSPACE_NOT_FOUND',
  ])
  @ApiUuidParam('tenantId')
  @ApiJson(200, 'A page of grants', pageOf(GRANT_SCHEMA))
  list(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Query() query: ListGrantsQueryDto,
    @Req() request: Request,
  ): Promise<Page<GrantView>> {
    const scope = (request as Request & { [READ_SCOPE_KEY]?: RequestReadScope })[READ_SCOPE_KEY];
    return this.queries.grants(
      tenantId,
      {
        ...(query.principalType === undefined ? {} : { principalType: query.principalType }),
        ...(query.principalId === undefined
          ? {}
          : { principalIds: principalIdsMatching(query.principalType, query.principalId) }),
        ...(query.workspaceId === undefined ? {} : { workspaceId: query.workspaceId.toLowerCase() }),
        ...(scope?.subtree ? { withinSubtreeOf: scope.subtree } : {}),
      },
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.cursor,
    );
  }
}

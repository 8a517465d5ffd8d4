import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiHeader, ApiParam } from '@nestjs/swagger';
import { ApiJson, ApiRoute, ApiUuidParam } from '../openapi/api-docs.decorators.js';
import { USER_ID_PATTERN } from '../../tenancy/user-id.js';
import { ACCESS_PAGE_SCHEMA, CHECK_ANSWER_SCHEMA, REACHABLE_PAGE_SCHEMA } from './membership.api-schemas.js';
import type { Request } from 'express';
import {
  PermissionQueries,
  type CheckRequest,
  type QueryOptions,
} from '../../application/permissions/permission.queries.js';
import { isPrincipalType } from '../../tenancy/permissions.js';
import { isUserId } from '../../tenancy/user-id.js';
import { READ_SCOPE_KEY, type RequestReadScope } from '../auth/actor.js';
import { fromBody, fromParam, Requires } from '../auth/requires.decorator.js';
import { validationProblem } from '../problem.js';
import { ListTenantsQueryDto } from '../queries/list-query.dto.js';
import { UuidParamPipe } from '../uuid-param.pipe.js';
import { minPositionOf } from '../queries/min-position.header.js';
import {
  isPrincipalIdOfType,
  PermissionCheckRequestDto,
  PRINCIPAL_UUID_MESSAGE,
  PrincipalWorkspacesQueryDto,
  type PermissionCheckDto,
} from './membership.request.dto.js';
import { principalOf } from './principal.js';

const DEFAULT_PAGE_SIZE = 100;

const MIN_POSITION = ApiHeader({
  name: 'Min-Position',
  required: false,
  description:
    "A write response's position: the answer includes that write (the tenant is caught up first if needed)",
});

/**
 * "May this principal do this here?" and the lookups around it, answered from the tenant's folded
 * state. Every answer says the tenant revision and log position it was taken at; `Min-Position`
 * makes it wait for (catch up to) a write the caller has seen.
 */
@Controller('v1/tenants/:tenantId')
export class PermissionsHttpController {
  constructor(private readonly permissions: PermissionQueries) {}

  @Post('permissions/check')
  @HttpCode(200)
  @Requires('permission:check', { tenantId: fromParam('tenantId'), workspaceId: fromBody('workspaceId') })
  @ApiRoute('permissions', 'May a principal do this on a workspace? One check, or up to 1,000 as `checks`', {
    403: ['FORBIDDEN'],
    404: ['TENANT_NOT_FOUND', 'WORKSPACE_NOT_FOUND'],
  })
  @ApiUuidParam('tenantId')
  @MIN_POSITION
  @ApiJson(
    200,
    'The answer (or the answers, in order), with the revision and position it was taken at',
    CHECK_ANSWER_SCHEMA,
  )
  async check(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Body() body: PermissionCheckRequestDto,
    @Req() request: Request,
  ) {
    const options = optionsOf(request);
    if (body.checks !== undefined) {
      if (body.principal !== undefined || body.permission !== undefined || body.workspaceId !== undefined) {
        throw validationProblem([
          { field: 'checks', message: 'cannot come with principal, permission or workspaceId' },
        ]);
      }
      return this.permissions.check(tenantId, body.checks.map(checkOf), options);
    }
    return this.permissions.checkOne(tenantId, checkOf(body as PermissionCheckDto), options);
  }

  @Get('principals/:principalType/:principalId/workspaces')
  @Requires('permission:check', { tenantId: fromParam('tenantId') })
  @ApiRoute('permissions', 'The workspaces on which a principal has a permission, in creation order', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    404: ['TENANT_NOT_FOUND'],
  })
  @ApiUuidParam('tenantId')
  @ApiParam({ name: 'principalType', schema: { type: 'string', enum: ['user', 'group', 'apiKey'] } })
  @ApiParam({
    name: 'principalId',
    description: "A user's id (1 to 255 characters), or a group's or an API key's UUID",
    schema: { type: 'string', pattern: USER_ID_PATTERN },
  })
  @MIN_POSITION
  @ApiJson(200, 'A page of workspaces with the role held on each and its grant', REACHABLE_PAGE_SCHEMA)
  async workspacesOf(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('principalType') principalType: string,
    @Param('principalId') principalId: string,
    @Query() query: PrincipalWorkspacesQueryDto,
    @Req() request: Request,
  ) {
    if (
      !isPrincipalType(principalType) ||
      !isUserId(principalId) ||
      !isPrincipalIdOfType(principalType, principalId)
    ) {
      throw validationProblem([
        ...(isPrincipalType(principalType)
          ? []
          : [{ field: 'principalType', message: "must be 'user', 'group' or 'apiKey'" }]),
        ...(isUserId(principalId) ? [] : [{ field: 'principalId', message: 'must be a user id or a UUID' }]),
        ...(isPrincipalIdOfType(principalType, principalId)
          ? []
          : [{ field: 'principalId', message: PRINCIPAL_UUID_MESSAGE }]),
      ]);
    }
    const page = await this.permissions.workspacesOf(
      tenantId,
      principalOf(principalType, principalId),
      query.permission,
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.cursor,
      optionsOf(request),
    );
    return page;
  }

  @Get('workspaces/:workspaceId/access')
  @Requires('permission:check', { tenantId: fromParam('tenantId'), workspaceId: fromParam('workspaceId') })
  @ApiRoute('permissions', 'Who holds which effective role on a workspace, and through which grant', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    404: ['TENANT_NOT_FOUND', 'WORKSPACE_NOT_FOUND'],
  })
  @ApiUuidParam('tenantId')
  @ApiUuidParam('workspaceId')
  @MIN_POSITION
  @ApiJson(200, 'A page of principals, users first, then groups, then API keys', ACCESS_PAGE_SCHEMA)
  async access(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('workspaceId', UuidParamPipe) workspaceId: string,
    @Query() query: ListTenantsQueryDto,
    @Req() request: Request,
  ) {
    const page = await this.permissions.accessAt(
      tenantId,
      workspaceId,
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.cursor,
      optionsOf(request),
    );
    return page;
  }
}

function checkOf(check: PermissionCheckDto): CheckRequest {
  return {
    principal: principalOf(check.principal.type, check.principal.id),
    permission: check.permission,
    workspaceId: check.workspaceId?.toLowerCase() ?? null,
  };
}

function optionsOf(request: Request): QueryOptions {
  const minPosition = minPositionOf(request);
  const subtree = (request as Request & { [READ_SCOPE_KEY]?: RequestReadScope })[READ_SCOPE_KEY]?.subtree;
  return {
    ...(minPosition === undefined ? {} : { minPosition }),
    ...(subtree ? { subtree } : {}),
  };
}

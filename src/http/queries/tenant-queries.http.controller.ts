import { Controller, Get, Param, Query, Req, UseInterceptors } from '@nestjs/common';
import type { Request } from 'express';
import {
  ReadModelQueries,
  type Page,
  type TenantView,
  type WorkspaceView,
} from '../../application/queries/read-model.queries.js';
import { READ_SCOPE_KEY, type RequestReadScope } from '../auth/actor.js';
import { fromParam, fromQuery, Requires } from '../auth/requires.decorator.js';
import { UuidParamPipe } from '../uuid-param.pipe.js';
import { ListTenantsQueryDto, ListWorkspacesQueryDto } from './list-query.dto.js';
import { MinPositionInterceptor } from './min-position.interceptor.js';

const DEFAULT_PAGE_SIZE = 100;

/** The read side over HTTP: tenants and workspaces from the read models. */
@Controller('v1/tenants')
@UseInterceptors(MinPositionInterceptor)
export class TenantQueriesHttpController {
  constructor(private readonly queries: ReadModelQueries) {}

  @Get()
  @Requires('tenant:list')
  list(@Query() query: ListTenantsQueryDto): Promise<Page<TenantView>> {
    return this.queries.tenants(query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
  }

  @Get(':tenantId')
  @Requires('tenant:read', { tenantId: fromParam('tenantId') })
  get(@Param('tenantId', UuidParamPipe) tenantId: string): Promise<TenantView> {
    return this.queries.tenant(tenantId);
  }

  @Get(':tenantId/workspaces')
  @Requires('workspace:list', {
    tenantId: fromParam('tenantId'),
    workspaceId: fromQuery('parentWorkspaceId'),
  })
  workspaces(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Query() query: ListWorkspacesQueryDto,
    @Req() request: Request,
  ): Promise<Page<WorkspaceView>> {
    const scope = (request as Request & { [READ_SCOPE_KEY]?: RequestReadScope })[READ_SCOPE_KEY];
    return this.queries.workspaces(
      tenantId,
      query.parentWorkspaceId?.toLowerCase(),
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.cursor,
      scope?.subtree ?? undefined,
    );
  }

  @Get(':tenantId/workspaces/:workspaceId')
  @Requires('workspace:read', { tenantId: fromParam('tenantId'), workspaceId: fromParam('workspaceId') })
  workspace(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('workspaceId', UuidParamPipe) workspaceId: string,
  ): Promise<WorkspaceView> {
    return this.queries.workspace(tenantId, workspaceId);
  }
}

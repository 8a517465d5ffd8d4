import { Controller, Get, Param, Query, UseInterceptors } from '@nestjs/common';
import {
  ReadModelQueries,
  type Page,
  type TenantView,
  type WorkspaceView,
} from '../../application/queries/read-model.queries.js';
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
  list(@Query() query: ListTenantsQueryDto): Promise<Page<TenantView>> {
    return this.queries.tenants(query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
  }

  @Get(':tenantId')
  get(@Param('tenantId', UuidParamPipe) tenantId: string): Promise<TenantView> {
    return this.queries.tenant(tenantId);
  }

  @Get(':tenantId/workspaces')
  workspaces(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Query() query: ListWorkspacesQueryDto,
  ): Promise<Page<WorkspaceView>> {
    return this.queries.workspaces(
      tenantId,
      query.parentWorkspaceId?.toLowerCase(),
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.cursor,
    );
  }

  @Get(':tenantId/workspaces/:workspaceId')
  workspace(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('workspaceId', UuidParamPipe) workspaceId: string,
  ): Promise<WorkspaceView> {
    return this.queries.workspace(tenantId, workspaceId);
  }
}

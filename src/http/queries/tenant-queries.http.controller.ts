import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { TenantCommandExecutor } from '../../application/commands/tenant-command.executor.js';
import {
  ReadModelQueries,
  type Page,
  type TenantView,
  type WorkspaceView,
} from '../../application/queries/read-model.queries.js';
import { ProjectionProgress } from '../../consumers/projection-progress.js';
import { isLiveOrComingRoot } from '../../tenancy/root-workspace.js';
import { TenancyRuleViolation } from '../../tenancy/tenancy.errors.js';
import { ACTOR_KEY, READ_SCOPE_KEY, type Actor, type RequestReadScope } from '../auth/actor.js';
import { ProblemError, problem } from '../problem.js';
import { sendRepresentation } from '../write-response.js';
import { fromParam, fromQuery, Requires } from '../auth/requires.decorator.js';
import { UuidParamPipe } from '../uuid-param.pipe.js';
import { ListTenantsQueryDto, ListWorkspacesQueryDto } from './list-query.dto.js';
import { MIN_POSITION_WAIT_MS, projectionLagging, ReadModelRoute } from './min-position.interceptor.js';
import {
  ApiIfMatchOnRead,
  ApiIfNoneMatch,
  ApiJson,
  ApiNotModified,
  ApiUuidParam,
  ETAG_HEADER,
} from '../openapi/api-docs.decorators.js';
import { pageOf, TENANT_SCHEMA, WORKSPACE_SCHEMA } from '../openapi/api-schemas.js';

const DEFAULT_PAGE_SIZE = 100;

/** The read side over HTTP: tenants and workspaces from the read models. */
@Controller('v1/tenants')
export class TenantQueriesHttpController {
  constructor(
    private readonly queries: ReadModelQueries,
    private readonly tenants: TenantCommandExecutor,
    private readonly progress: ProjectionProgress,
  ) {}

  @Get()
  @Requires('tenant:list')
  @ReadModelRoute(
    'tenants',
    'Every tenant not deleted, in keyset pages (operator); a deleted one is read by its id',
    [],
  )
  @ApiJson(200, 'A page of tenants', pageOf(TENANT_SCHEMA))
  list(@Query() query: ListTenantsQueryDto): Promise<Page<TenantView>> {
    return this.queries.tenants(query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
  }

  @Get(':tenantId')
  @Requires('tenant:read', { tenantId: fromParam('tenantId') })
  @ReadModelRoute(
    'tenants',
    'A tenant, with its workspace count and deletion progress',
    ['TENANT_NOT_FOUND'],
    {
      412: ['REVISION_MISMATCH'],
    },
  )
  @ApiUuidParam('tenantId')
  @ApiIfMatchOnRead()
  @ApiIfNoneMatch()
  @ApiJson(
    200,
    'The tenant (for the operator also once deleted, as status deleted)',
    TENANT_SCHEMA,
    ETAG_HEADER,
  )
  @ApiNotModified()
  async get(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TenantView | undefined> {
    // For the operator a deleted tenant stays readable, as the status resource of its deletion.
    const operator = (request as Request & { [ACTOR_KEY]?: Actor })[ACTOR_KEY]?.kind === 'operator';
    return sendRepresentation(request, response, await this.queries.tenant(tenantId, operator));
  }

  @Get(':tenantId/workspaces')
  @ReadModelRoute(
    'workspaces',
    "Every live workspace of the tenant (root included), or one parent's children",
    ['TENANT_NOT_FOUND', 'WORKSPACE_NOT_FOUND'],
  )
  @ApiUuidParam('tenantId')
  @ApiJson(200, 'A page of workspaces', pageOf(WORKSPACE_SCHEMA))
  @Requires('workspace:list', {
    tenantId: fromParam('tenantId'),
    workspaceId: fromQuery('parentWorkspaceId'),
  })
  async workspaces(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Query() query: ListWorkspacesQueryDto,
    @Req() request: Request,
  ): Promise<Page<WorkspaceView>> {
    const scope = (request as Request & { [READ_SCOPE_KEY]?: RequestReadScope })[READ_SCOPE_KEY];
    const parentWorkspaceId = query.parentWorkspaceId?.toLowerCase();
    const list = () =>
      this.queries.workspaces(
        tenantId,
        parentWorkspaceId,
        query.limit ?? DEFAULT_PAGE_SIZE,
        query.cursor,
        scope?.subtree ?? undefined,
      );
    try {
      return await list();
    } catch (error) {
      if (parentWorkspaceId === undefined || !isWorkspaceNotFound(error)) throw error;
      const { state } = await this.tenants.read(tenantId);
      if (!isLiveOrComingRoot(state, parentWorkspaceId)) throw error;
      return this.onceRootShown(parentWorkspaceId, list);
    }
  }

  @Get(':tenantId/workspaces/:workspaceId')
  @ReadModelRoute(
    'workspaces',
    'A workspace, with its depth, path from the root and child count',
    ['TENANT_NOT_FOUND', 'WORKSPACE_NOT_FOUND'],
    { 410: ['WORKSPACE_DELETED'], 412: ['REVISION_MISMATCH'] },
  )
  @ApiUuidParam('tenantId')
  @ApiUuidParam('workspaceId')
  @ApiIfMatchOnRead()
  @ApiIfNoneMatch()
  @ApiJson(200, 'The workspace', WORKSPACE_SCHEMA, ETAG_HEADER)
  @ApiNotModified()
  @Requires('workspace:read', { tenantId: fromParam('tenantId'), workspaceId: fromParam('workspaceId') })
  async workspace(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('workspaceId', UuidParamPipe) workspaceId: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<WorkspaceView | undefined> {
    try {
      return sendRepresentation(request, response, await this.queries.workspace(tenantId, workspaceId));
    } catch (error) {
      if (!isWorkspaceNotFound(error)) throw error;
      const { state } = await this.tenants.read(tenantId);
      // A workspace that existed and was deleted is 410 Gone: the end state of its deletion's status resource.
      if (state.workspaces.get(workspaceId)?.status === 'deleted') {
        throw new ProblemError(
          problem(410, 'WORKSPACE_DELETED', 'Workspace deleted', `Workspace ${workspaceId} was deleted.`),
        );
      }
      if (!isLiveOrComingRoot(state, workspaceId)) throw error;
      const root = await this.onceRootShown(workspaceId, () => this.queries.workspace(tenantId, workspaceId));
      return sendRepresentation(request, response, root);
    }
  }

  /**
   * A read that found no tenant's root, which the log holds (or its bootstrap is about to append):
   * read again once the read model shows it, waiting as a Min-Position read waits, then 503
   * PROJECTION_LAGGING.
   */
  private async onceRootShown<T>(rootWorkspaceId: string, read: () => Promise<T>): Promise<T> {
    const shown = await this.progress.until(async () => {
      try {
        return await read();
      } catch (error) {
        if (isWorkspaceNotFound(error)) return undefined;
        throw error;
      }
    }, MIN_POSITION_WAIT_MS);
    if (shown === undefined) throw projectionLagging(`do not show the root workspace ${rootWorkspaceId}`);
    return shown;
  }
}

function isWorkspaceNotFound(error: unknown): boolean {
  return error instanceof TenancyRuleViolation && error.code === 'WORKSPACE_NOT_FOUND';
}

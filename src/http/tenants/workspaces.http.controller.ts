import { randomUUID } from 'node:crypto';
import {
  Body,
  Controller,
  Delete,
  Headers,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { CreateWorkspaceCommand } from '../../application/commands/create-workspace.command.js';
import { DeleteWorkspaceCommand } from '../../application/commands/delete-workspace.command.js';
import { RenameWorkspaceCommand } from '../../application/commands/rename-workspace.command.js';
import { CLOCK, type Clock } from '../../application/clock.js';
import { commandContextOf } from '../request-context.js';
import { fromBody, fromParam, Requires } from '../auth/requires.decorator.js';
import { UuidParamPipe } from '../uuid-param.pipe.js';
import { ifMatchRevisionsOf, sendAccepted, sendWrite } from '../write-response.js';
import {
  CreateWorkspaceRequestDto,
  DeleteWorkspaceQueryDto,
  MoveWorkspaceRequestDto,
  RenameWorkspaceRequestDto,
} from './tenancy.request.dto.js';
import { MoveWorkspaceCommand } from '../../application/lifecycle/tenant-lifecycle.commands.js';
import {
  ApiIfMatch,
  ApiJson,
  ApiNoContent,
  ApiRoute,
  ApiUuidParam,
  ETAG_HEADER,
} from '../openapi/api-docs.decorators.js';
import { MOVED_WORKSPACE_SCHEMA, WORKSPACE_WRITTEN_SCHEMA } from '../openapi/api-schemas.js';

@Controller('v1/tenants/:tenantId/workspaces')
export class WorkspacesHttpController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  @ApiRoute('workspaces', 'Create a workspace (under the root unless a parent is given)', {
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH'],
    404: ['TENANT_NOT_FOUND', 'WORKSPACE_NOT_FOUND'],
    409: [
      'WORKSPACE_NAME_TAKEN',
      'WORKSPACE_ID_TAKEN',
      'WORKSPACE_DELETING',
      'QUOTA_EXCEEDED',
      'TENANT_SUSPENDED',
      'TENANT_DELETING',
    ],
  })
  @ApiUuidParam('tenantId')
  @ApiJson(201, 'Created', WORKSPACE_WRITTEN_SCHEMA, { ...ETAG_HEADER, Location: 'The new workspace' })
  @ApiJson(200, 'The same workspace was created before', WORKSPACE_WRITTEN_SCHEMA, {
    ...ETAG_HEADER,
    Location: 'The workspace',
  })
  @Requires('workspace:create', {
    tenantId: fromParam('tenantId'),
    workspaceId: fromBody('parentWorkspaceId', 'root'),
  })
  @ApiIfMatch()
  async create(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Body() body: CreateWorkspaceRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const workspaceId = body.workspaceId?.toLowerCase() ?? randomUUID();
    const result = await this.commands.execute(
      new CreateWorkspaceCommand(
        tenantId,
        workspaceId,
        body.parentWorkspaceId?.toLowerCase(),
        body.name,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    response.setHeader('Location', `/v1/tenants/${tenantId}/workspaces/${workspaceId}`);
    return sendWrite(response, result, result.changed ? 201 : 200);
  }

  @Post(':workspaceId/move')
  @ApiRoute('workspaces', 'Move a workspace, with its whole subtree, under another parent', {
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH'],
    404: ['TENANT_NOT_FOUND', 'WORKSPACE_NOT_FOUND'],
    409: [
      'WORKSPACE_MOVE_CYCLE',
      'ROOT_WORKSPACE_IMMOVABLE',
      'WORKSPACE_NAME_TAKEN',
      'WORKSPACE_DELETING',
      'QUOTA_EXCEEDED',
      'TENANT_SUSPENDED',
      'TENANT_DELETING',
    ],
  })
  @ApiUuidParam('tenantId')
  @ApiUuidParam('workspaceId')
  @ApiJson(
    200,
    'Moved (or already there): the new parent, depth and path',
    MOVED_WORKSPACE_SCHEMA,
    ETAG_HEADER,
  )
  @Requires('workspace:move', {
    tenantId: fromParam('tenantId'),
    workspaceId: fromParam('workspaceId'),
    destinationWorkspaceId: fromBody('parentWorkspaceId'),
  })
  @ApiIfMatch()
  async move(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('workspaceId', UuidParamPipe) workspaceId: string,
    @Body() body: MoveWorkspaceRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new MoveWorkspaceCommand(
        tenantId,
        workspaceId,
        body.parentWorkspaceId.toLowerCase(),
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    return sendWrite(response, result, 200);
  }

  @Patch(':workspaceId')
  @ApiRoute('workspaces', 'Rename a workspace', {
    403: ['FORBIDDEN'],
    404: ['TENANT_NOT_FOUND', 'WORKSPACE_NOT_FOUND'],
    409: ['WORKSPACE_NAME_TAKEN', 'WORKSPACE_DELETING', 'TENANT_SUSPENDED', 'TENANT_DELETING'],
    412: ['REVISION_MISMATCH'],
  })
  @ApiUuidParam('tenantId')
  @ApiUuidParam('workspaceId')
  @ApiIfMatch()
  @ApiJson(200, 'Renamed', WORKSPACE_WRITTEN_SCHEMA, ETAG_HEADER)
  @Requires('workspace:change', { tenantId: fromParam('tenantId'), workspaceId: fromParam('workspaceId') })
  async rename(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('workspaceId', UuidParamPipe) workspaceId: string,
    @Body() body: RenameWorkspaceRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new RenameWorkspaceCommand(
        tenantId,
        workspaceId,
        body.name,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    return sendWrite(response, result, 200);
  }

  @Delete(':workspaceId')
  @ApiRoute(
    'workspaces',
    'Delete a workspace: a leaf at once, a subtree with cascade=true in the background',
    {
      400: ['VALIDATION_FAILED'],
      403: ['FORBIDDEN'],
      412: ['REVISION_MISMATCH'],
      404: ['TENANT_NOT_FOUND', 'WORKSPACE_NOT_FOUND'],
      409: [
        'WORKSPACE_HAS_CHILDREN',
        'ROOT_WORKSPACE_UNDELETABLE',
        'WORKSPACE_DELETING',
        'TENANT_SUSPENDED',
        'TENANT_DELETING',
      ],
    },
  )
  @ApiUuidParam('tenantId')
  @ApiUuidParam('workspaceId')
  @ApiNoContent('Deleted (a leaf)')
  @ApiJson(
    202,
    'Deleting the subtree; Location is the status resource (deleting with progress, then 410 Gone)',
    WORKSPACE_WRITTEN_SCHEMA,
    {
      ...ETAG_HEADER,
      Location: 'The workspace',
    },
  )
  @Requires('workspace:change', { tenantId: fromParam('tenantId'), workspaceId: fromParam('workspaceId') })
  @ApiIfMatch()
  async delete(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('workspaceId', UuidParamPipe) workspaceId: string,
    @Query() query: DeleteWorkspaceQueryDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const cascade = query.cascade === 'true';
    const result = await this.commands.execute(
      new DeleteWorkspaceCommand(
        tenantId,
        workspaceId,
        cascade,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    if (!cascade) {
      sendWrite(response, result, 204);
      return undefined;
    }
    // The workspace itself is the deletion's status resource: 'deleting' with progress, then 410 Gone.
    return sendAccepted(response, result, `/v1/tenants/${tenantId}/workspaces/${workspaceId}`, {
      tenantId,
      workspaceId,
      status: result.body.status,
    });
  }
}

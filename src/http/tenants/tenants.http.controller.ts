import { randomUUID } from 'node:crypto';
import { Body, Controller, Delete, Get, Headers, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { CreateTenantCommand } from '../../application/commands/create-tenant.command.js';
import { DeleteTenantCommand } from '../../application/commands/delete-tenant.command.js';
import {
  TenantHistoryReader,
  type TenantHistoryPage,
} from '../../application/queries/tenant-history.reader.js';
import { CLOCK, type Clock } from '../../application/clock.js';
import { commandContextOf } from '../request-context.js';
import { fromParam, Requires } from '../auth/requires.decorator.js';
import { UuidParamPipe } from '../uuid-param.pipe.js';
import { ifMatchRevisionsOf, sendAccepted, sendWrite } from '../write-response.js';
import { CreateTenantRequestDto, TenantEventsQueryDto } from './tenancy.request.dto.js';
import { ApiIfMatch, ApiJson, ApiRoute, ApiUuidParam, ETAG_HEADER } from '../openapi/api-docs.decorators.js';
import { TENANT_EVENTS_SCHEMA, TENANT_WRITTEN_SCHEMA } from '../openapi/api-schemas.js';

@Controller('v1/tenants')
export class TenantsHttpController {
  constructor(
    private readonly commands: CommandBus,
    private readonly history: TenantHistoryReader,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  @Requires('tenant:create')
  @ApiRoute('tenants', 'Create a tenant with its root workspace (operator)', {
    403: ['FORBIDDEN'],
    409: ['TENANT_NAME_TAKEN', 'TENANT_ALREADY_EXISTS'],
  })
  @ApiJson(201, 'Created', TENANT_WRITTEN_SCHEMA, { ...ETAG_HEADER, Location: 'The new tenant' })
  @ApiJson(
    200,
    'The same create (tenantId, name and adminUserId) was made before: the same answer again',
    TENANT_WRITTEN_SCHEMA,
    { ...ETAG_HEADER, Location: 'The tenant' },
  )
  async create(
    @Body() body: CreateTenantRequestDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const tenantId = body.tenantId?.toLowerCase() ?? randomUUID();
    const result = await this.commands.execute(
      new CreateTenantCommand(tenantId, body.name, commandContextOf(request, this.clock), body.adminUserId),
    );
    response.setHeader('Location', `/v1/tenants/${tenantId}`);
    return sendWrite(response, result, result.changed ? 201 : 200);
  }

  @Delete(':tenantId')
  @Requires('tenant:delete', { tenantId: fromParam('tenantId') })
  @ApiRoute('tenants', 'Delete a tenant: its workspaces go deepest first, in the background (operator)', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH'],
    404: ['TENANT_NOT_FOUND'],
  })
  @ApiUuidParam('tenantId')
  @ApiJson(
    202,
    'Deleting; Location is the status resource (status deleting with progress, then deleted)',
    TENANT_WRITTEN_SCHEMA,
    {
      ...ETAG_HEADER,
      Location: 'The tenant, readable by the operator until and after the deletion completes',
    },
  )
  @ApiIfMatch()
  async delete(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new DeleteTenantCommand(tenantId, ifMatchRevisionsOf(ifMatch), commandContextOf(request, this.clock)),
    );
    // The tenant is the deletion's status resource: 'deleting' with progress, then 'deleted'.
    const { tenantId: id, status } = result.body;
    return sendAccepted(response, result, `/v1/tenants/${tenantId}`, { tenantId: id, status });
  }

  @Get(':tenantId/events')
  @Requires('tenant:history', { tenantId: fromParam('tenantId') })
  @ApiRoute('tenants', "The tenant's stream, straight from the event store", {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    404: ['TENANT_NOT_FOUND'],
  })
  @ApiUuidParam('tenantId')
  @ApiJson(200, 'A page of events in stream order', TENANT_EVENTS_SCHEMA)
  events(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Query() query: TenantEventsQueryDto,
  ): Promise<TenantHistoryPage> {
    return this.history.page(tenantId, query.after ?? -1, query.limit ?? 100);
  }
}

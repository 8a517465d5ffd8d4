import { randomUUID } from 'node:crypto';
import { Body, Controller, Delete, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
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
import { sendWrite } from '../write-response.js';
import { CreateTenantRequestDto, TenantEventsQueryDto } from './tenancy.request.dto.js';

@Controller('v1/tenants')
export class TenantsHttpController {
  constructor(
    private readonly commands: CommandBus,
    private readonly history: TenantHistoryReader,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  @Requires('tenant:create')
  async create(
    @Body() body: CreateTenantRequestDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const tenantId = body.tenantId?.toLowerCase() ?? randomUUID();
    const result = await this.commands.execute(
      new CreateTenantCommand(tenantId, body.name, commandContextOf(request, this.clock)),
    );
    response.setHeader('Location', `/v1/tenants/${tenantId}`);
    return sendWrite(response, result, result.changed ? 201 : 200);
  }

  @Delete(':tenantId')
  @Requires('tenant:delete', { tenantId: fromParam('tenantId') })
  async delete(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new DeleteTenantCommand(tenantId, commandContextOf(request, this.clock)),
    );
    // The tenant is the deletion's status resource: 'deleting' with progress, then 'deleted'.
    response.setHeader('Location', `/v1/tenants/${tenantId}`);
    const { tenantId: id, status, position } = sendWrite(response, result, 202);
    return { tenantId: id, status, position };
  }

  @Get(':tenantId/events')
  @Requires('tenant:history', { tenantId: fromParam('tenantId') })
  events(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Query() query: TenantEventsQueryDto,
  ): Promise<TenantHistoryPage> {
    return this.history.page(tenantId, query.after ?? -1, query.limit ?? 100);
  }
}

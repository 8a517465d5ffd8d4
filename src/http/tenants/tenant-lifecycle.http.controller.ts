import { Body, Controller, Get, Headers, Inject, Param, Patch, Post, Put, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { CLOCK, type Clock } from '../../application/clock.js';
import { TenantCommandExecutor } from '../../application/commands/tenant-command.executor.js';
import { quotasOf, type TenantQuotasBody } from '../../application/commands/tenant-quotas.js';
import {
  ReactivateTenantCommand,
  RenameTenantCommand,
  SetTenantQuotasCommand,
  SuspendTenantCommand,
} from '../../application/lifecycle/tenant-lifecycle.commands.js';
import { tenantNotFound } from '../../tenancy/tenant-rules.js';
import { fromParam, Requires } from '../auth/requires.decorator.js';
import { ApiIfMatch, ApiJson, ApiRoute, ApiUuidParam, ETAG_HEADER } from '../openapi/api-docs.decorators.js';
import { TENANT_QUOTAS_SCHEMA, TENANT_STATUS_WRITTEN_SCHEMA } from '../openapi/api-schemas.js';
import { commandContextOf } from '../request-context.js';
import { UuidParamPipe } from '../uuid-param.pipe.js';
import { ifMatchRevisionsOf, sendWrite } from '../write-response.js';
import {
  RenameTenantRequestDto,
  SetTenantQuotasRequestDto,
  SuspendTenantRequestDto,
} from './tenancy.request.dto.js';

const TENANT = { tenantId: fromParam('tenantId') };

/** The operator's levers on a tenant's life: suspend, reactivate, rename, quotas. */
@Controller('v1/tenants/:tenantId')
export class TenantLifecycleHttpController {
  constructor(
    private readonly commands: CommandBus,
    private readonly tenants: TenantCommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('suspend')
  @Requires('tenant:manage', TENANT)
  @ApiRoute(
    'tenants',
    'Suspend a tenant: every change but reactivation, deletion and erasure is refused until reactivated (operator)',
    {
      403: ['FORBIDDEN'],
      412: ['REVISION_MISMATCH'],
      404: ['TENANT_NOT_FOUND'],
      409: ['TENANT_DELETING'],
    },
  )
  @ApiUuidParam('tenantId')
  @ApiJson(200, 'Suspended (or already suspended)', TENANT_STATUS_WRITTEN_SCHEMA, ETAG_HEADER)
  @ApiIfMatch()
  async suspend(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Body() body: SuspendTenantRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new SuspendTenantCommand(
        tenantId,
        body.reason,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    return sendWrite(response, result, 200);
  }

  @Post('reactivate')
  @Requires('tenant:manage', TENANT)
  @ApiRoute('tenants', 'Reactivate a suspended tenant (operator)', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH'],
    404: ['TENANT_NOT_FOUND'],
    409: ['TENANT_DELETING'],
  })
  @ApiUuidParam('tenantId')
  @ApiJson(200, 'Active (or already active)', TENANT_STATUS_WRITTEN_SCHEMA, ETAG_HEADER)
  @ApiIfMatch()
  async reactivate(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new ReactivateTenantCommand(
        tenantId,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    return sendWrite(response, result, 200);
  }

  @Patch()
  @Requires('tenant:manage', TENANT)
  @ApiRoute('tenants', 'Rename a tenant; names stay unique across tenants (operator)', {
    403: ['FORBIDDEN'],
    404: ['TENANT_NOT_FOUND'],
    409: ['TENANT_NAME_TAKEN', 'TENANT_SUSPENDED', 'TENANT_DELETING'],
    412: ['REVISION_MISMATCH'],
  })
  @ApiUuidParam('tenantId')
  @ApiIfMatch()
  @ApiJson(200, 'Renamed (or already so named)', TENANT_STATUS_WRITTEN_SCHEMA, ETAG_HEADER)
  async rename(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Body() body: RenameTenantRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new RenameTenantCommand(
        tenantId,
        body.name,
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    return sendWrite(response, result, 200);
  }

  @Put('quotas')
  @Requires('tenant:manage', TENANT)
  @ApiRoute('tenants', "Set the tenant's own quotas; absent or null: the configured default (operator)", {
    403: ['FORBIDDEN'],
    412: ['REVISION_MISMATCH'],
    404: ['TENANT_NOT_FOUND'],
    409: ['TENANT_SUSPENDED', 'TENANT_DELETING'],
  })
  @ApiUuidParam('tenantId')
  @ApiJson(200, 'The quotas in force, with the current use', TENANT_QUOTAS_SCHEMA, ETAG_HEADER)
  @ApiIfMatch()
  async setQuotas(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Body() body: SetTenantQuotasRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new SetTenantQuotasCommand(
        tenantId,
        { ...body },
        ifMatchRevisionsOf(ifMatch),
        commandContextOf(request, this.clock),
      ),
    );
    return sendWrite(response, result, 200);
  }

  /** From the tenant's folded state (caught up with its stream), like the decisions the quotas make. */
  @Get('quotas')
  @Requires('tenant:read', TENANT)
  @ApiRoute('tenants', 'The quotas in force, where each comes from, and the current use', {
    400: ['VALIDATION_FAILED'],
    403: ['FORBIDDEN'],
    404: ['TENANT_NOT_FOUND'],
  })
  @ApiUuidParam('tenantId')
  @ApiJson(200, 'The quotas', TENANT_QUOTAS_SCHEMA)
  async quotas(@Param('tenantId', UuidParamPipe) tenantId: string): Promise<TenantQuotasBody> {
    const { state } = await this.tenants.read(tenantId);
    if (state.status === 'none' || state.status === 'deleted') throw tenantNotFound(tenantId);
    return quotasOf(tenantId, state, this.tenants.quotaDefaults);
  }
}

import { Body, Controller, Delete, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { ApiKeyQueries } from '../../application/access/api-key.queries.js';
import type { ApiKeyBody } from '../../application/commands/issue-api-key.command.js';
import { IssueApiKeyCommand } from '../../application/commands/issue-api-key.command.js';
import { RevokeApiKeyCommand } from '../../application/commands/revoke-api-key.command.js';
import { CLOCK, type Clock } from '../../application/clock.js';
import { fromParam, Requires } from '../auth/requires.decorator.js';
import { commandContextOf } from '../request-context.js';
import { UuidParamPipe } from '../uuid-param.pipe.js';
import { sendWrite } from '../write-response.js';
import { IssueApiKeyRequestDto } from './api-keys.request.dto.js';

@Controller('v1/tenants/:tenantId/api-keys')
export class ApiKeysHttpController {
  constructor(
    private readonly commands: CommandBus,
    private readonly keys: ApiKeyQueries,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The only answer that ever contains the secret. */
  @Post()
  @Requires('api-key:manage', { tenantId: fromParam('tenantId') })
  async issue(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Body() body: IssueApiKeyRequestDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const result = await this.commands.execute(
      new IssueApiKeyCommand(
        tenantId,
        body.role,
        body.workspaceId?.toLowerCase() ?? null,
        body.name ?? null,
        commandContextOf(request, this.clock),
      ),
    );
    response.setHeader('Location', `/v1/tenants/${tenantId}/api-keys/${result.body.apiKeyId}`);
    response.setHeader('Cache-Control', 'no-store');
    const { apiKeyId, secret, role, workspaceId, name, createdAt, revision, position } = sendWrite(
      response,
      result,
      201,
    );
    return { apiKeyId, secret, role, workspaceId, name, createdAt, revision, position };
  }

  @Get()
  @Requires('api-key:manage', { tenantId: fromParam('tenantId') })
  list(@Param('tenantId', UuidParamPipe) tenantId: string): Promise<{ items: ApiKeyBody[] }> {
    return this.keys.list(tenantId);
  }

  @Delete(':apiKeyId')
  @Requires('api-key:manage', { tenantId: fromParam('tenantId') })
  async revoke(
    @Param('tenantId', UuidParamPipe) tenantId: string,
    @Param('apiKeyId', UuidParamPipe) apiKeyId: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const result = await this.commands.execute(
      new RevokeApiKeyCommand(tenantId, apiKeyId, commandContextOf(request, this.clock)),
    );
    sendWrite(response, result, 204);
  }
}
